// The seam between a platform's code and the hub: one virtual function per RPC.
//
// fedhub::Client calls a Connection; MakeGrpcConnection gives the real one and
// MakeRetryingConnection wraps any Connection with retries. A platform's own unit tests can
// implement Connection (or mock it with GoogleMock's MOCK_METHOD) and hand it to
// fedhub::Client, so they run without a hub (the google-cloud-cpp client/connection split).
//
// Errors: every call returns the hub's gRPC status as an absl::Status with the same code and
// the hub's message verbatim; transport failures come back as UNAVAILABLE or
// DEADLINE_EXCEEDED. Nothing here throws.
//
// Thread safety: implementations must be safe to call from many threads at once; the gRPC
// and retrying connections are. A ConsentWatchStream or SubscribeStream is used by one
// thread, a PublishStream by two (one writes, one reads); Cancel may be called from any
// thread.
#ifndef FEDHUB_CONNECTION_H_
#define FEDHUB_CONNECTION_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/options.h"
#include "fedhub/v1/audit.pb.h"
#include "fedhub/v1/catalogue.pb.h"
#include "fedhub/v1/consent.pb.h"
#include "fedhub/v1/hub.pb.h"
#include "fedhub/v1/linking.pb.h"
#include "fedhub/v1/registry.pb.h"
#include "fedhub/v1/report.pb.h"
#include "fedhub/v1/stream.pb.h"

namespace fedhub {

// An open ConsentService.WatchConsents stream.
class ConsentWatchStream {
 public:
  virtual ~ConsentWatchStream() = default;
  // Blocks for the next change. False when the stream has ended; then call Finish.
  virtual bool Read(v1::WatchConsentsResponse* change) = 0;
  // The stream's final status. Call once, after Read returned false (or after Cancel).
  virtual absl::Status Finish() = 0;
  // Ends the stream from any thread: a blocked Read returns false and Finish reports
  // CANCELLED.
  virtual void Cancel() = 0;
};

// An open StreamService.Publish call: batches go out, acknowledgements come back in the
// order the batches were sent. One thread calls Write and WritesDone while another calls
// Read (the gRPC synchronous API allows exactly that); Cancel may come from any thread;
// Finish comes last, when neither Write nor Read is in progress.
class PublishStream {
 public:
  virtual ~PublishStream() = default;
  // Sends one batch; blocks while the transport's flow control holds it back. False when
  // the stream is broken: send nothing more, and let Read return false and Finish report why.
  virtual bool Write(const v1::PublishRequest& batch) = 0;
  // Blocks for the next acknowledgement. False when the stream has ended.
  virtual bool Read(v1::PublishResponse* ack) = 0;
  // No more batches will be written. The hub ends the stream once it has answered all of
  // them, so Read then returns false.
  virtual void WritesDone() = 0;
  // The stream's final status. Call once, after Read returned false (or after Cancel).
  virtual absl::Status Finish() = 0;
  // Ends the stream from any thread: blocked Write and Read calls return false and Finish
  // reports CANCELLED.
  virtual void Cancel() = 0;
};

// An open StreamService.Subscribe call.
class SubscribeStream {
 public:
  virtual ~SubscribeStream() = default;
  // Blocks for the next message. False when the stream has ended; then call Finish.
  virtual bool Read(v1::SubscribeResponse* message) = 0;
  // The stream's final status. Call once, after Read returned false (or after Cancel).
  virtual absl::Status Finish() = 0;
  // Ends the stream from any thread: a blocked Read returns false and Finish reports
  // CANCELLED.
  virtual void Cancel() = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // HubService
  virtual absl::StatusOr<v1::GetHubInfoResponse> GetHubInfo(const v1::GetHubInfoRequest&) = 0;

  // RegistryService
  virtual absl::StatusOr<v1::RegisterPrincipalResponse> RegisterPrincipal(
      const v1::RegisterPrincipalRequest&) = 0;
  virtual absl::StatusOr<v1::SuspendPrincipalResponse> SuspendPrincipal(
      const v1::SuspendPrincipalRequest&) = 0;
  virtual absl::StatusOr<v1::ReinstatePrincipalResponse> ReinstatePrincipal(
      const v1::ReinstatePrincipalRequest&) = 0;
  virtual absl::StatusOr<v1::GetPrincipalResponse> GetPrincipal(
      const v1::GetPrincipalRequest&) = 0;
  virtual absl::StatusOr<v1::ListPrincipalsResponse> ListPrincipals(
      const v1::ListPrincipalsRequest&) = 0;

  // LinkingService
  virtual absl::StatusOr<v1::CreateLinkTicketResponse> CreateLinkTicket(
      const v1::CreateLinkTicketRequest&) = 0;
  virtual absl::StatusOr<v1::RedeemLinkTicketResponse> RedeemLinkTicket(
      const v1::RedeemLinkTicketRequest&) = 0;
  virtual absl::StatusOr<v1::UnlinkAccountResponse> UnlinkAccount(
      const v1::UnlinkAccountRequest&) = 0;

  // ConsentService
  virtual absl::StatusOr<v1::GrantConsentResponse> GrantConsent(
      const v1::GrantConsentRequest&) = 0;
  virtual absl::StatusOr<v1::RevokeConsentResponse> RevokeConsent(
      const v1::RevokeConsentRequest&) = 0;
  virtual absl::StatusOr<v1::CheckConsentResponse> CheckConsent(
      const v1::CheckConsentRequest&) = 0;
  virtual absl::StatusOr<v1::ListConsentsResponse> ListConsents(
      const v1::ListConsentsRequest&) = 0;
  // Never null; a stream that could not start reports its error from Read/Finish.
  virtual std::unique_ptr<ConsentWatchStream> WatchConsents(
      const v1::WatchConsentsRequest&) = 0;

  // AuditService
  virtual absl::StatusOr<v1::ListChainEntriesResponse> ListChainEntries(
      const v1::ListChainEntriesRequest&) = 0;
  virtual absl::StatusOr<v1::GetChainHeadResponse> GetChainHead(
      const v1::GetChainHeadRequest&) = 0;
  virtual absl::StatusOr<v1::VerifyChainResponse> VerifyChain(
      const v1::VerifyChainRequest&) = 0;
  // ReportService: one page of a report, every message of it.
  virtual absl::StatusOr<std::vector<v1::ReportPersonResponse>> ReportPerson(const v1::ReportPersonRequest&) = 0;
  virtual absl::StatusOr<std::vector<v1::ReportPlatformResponse>> ReportPlatform(const v1::ReportPlatformRequest&) = 0;
  // Merkle tree heads and proofs over the audit log.
  virtual absl::StatusOr<v1::GetSignedTreeHeadResponse> GetSignedTreeHead(const v1::GetSignedTreeHeadRequest&) = 0;
  virtual absl::StatusOr<v1::SignTreeHeadResponse> SignTreeHead(const v1::SignTreeHeadRequest&) = 0;
  virtual absl::StatusOr<v1::ListSignedTreeHeadsResponse> ListSignedTreeHeads(const v1::ListSignedTreeHeadsRequest&) = 0;
  virtual absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(const v1::GetInclusionProofRequest&) = 0;
  virtual absl::StatusOr<v1::GetConsistencyProofResponse> GetConsistencyProof(const v1::GetConsistencyProofRequest&) = 0;

  // StreamService
  // Never null; a stream that could not start reports its error from Read/Finish (and
  // Write returns false).
  virtual std::unique_ptr<PublishStream> Publish() = 0;
  // Never null; a stream that could not start reports its error from Read/Finish.
  virtual std::unique_ptr<SubscribeStream> Subscribe(const v1::SubscribeRequest&) = 0;
  virtual absl::StatusOr<v1::AcknowledgeErasureResponse> AcknowledgeErasure(
      const v1::AcknowledgeErasureRequest&) = 0;
  virtual absl::StatusOr<v1::GetStreamInfoResponse> GetStreamInfo(
      const v1::GetStreamInfoRequest&) = 0;

  // CatalogueService
  virtual absl::StatusOr<v1::SetSharingPolicyResponse> SetSharingPolicy(
      const v1::SetSharingPolicyRequest&) = 0;
  virtual absl::StatusOr<v1::GetSharingPolicyResponse> GetSharingPolicy(
      const v1::GetSharingPolicyRequest&) = 0;
  virtual absl::StatusOr<v1::ListCatalogueResponse> ListCatalogue(
      const v1::ListCatalogueRequest&) = 0;
};

// A Connection over one mutual-TLS gRPC channel to options.endpoint. Reads the three PEM
// files now: a missing or unreadable file is INVALID_ARGUMENT naming the path. The channel
// connects lazily, so an unreachable hub shows up as UNAVAILABLE on the first call.
// Does not retry; wrap it with MakeRetryingConnection (fedhub::Client::Connect does).
absl::StatusOr<std::shared_ptr<Connection>> MakeGrpcConnection(const ClientOptions& options);

// Wraps `inner` so that idempotent calls are retried under `policy` (see RetryPolicy);
// every other call, and the streams (WatchConsents, Publish, Subscribe), passes through
// once: fedhub::Client::FollowConsents, fedhub::Publisher and fedhub::Subscription resume
// streams themselves.
std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   RetryPolicy policy);

}  // namespace fedhub

#endif  // FEDHUB_CONNECTION_H_
