// fedhub::Client: typed calls for every FedHub RPC, over a Connection.
//
//   auto client = fedhub::Client::Connect(
//       fedhub::ClientOptions::ForPrincipal("/etc/fedhub/certs", "courses", "hub:7443"));
//   if (!client.ok()) return client.status();
//   fedhub::ConsentGrant grant{.local_user_id = "u-17",
//                              .categories = {fedhub::v1::DATA_CATEGORY_LEARNING},
//                              .purposes = {fedhub::v1::PURPOSE_SYNC},
//                              .evidence_method = "web-form"};
//   auto granted = client->GrantConsent(grant);   // receipt in granted->receipt()
//
// Every RPC has an overload taking its request message and returning its response message;
// the other overloads are conveniences that build the request. Streams come raw
// (WatchConsents, OpenPublishStream, OpenSubscribeStream) and managed: FollowConsents,
// NewPublisher (fedhub/publisher.h) and Subscribe (fedhub/subscription.h) resume them
// after a dropped connection. Errors are the hub's status (code and message verbatim), never
// exceptions.
//
// Thread safety: a Client is a cheap handle (a shared_ptr to its Connection); copies share
// the connection, and all methods may be called from many threads at once.
#ifndef FEDHUB_CLIENT_H_
#define FEDHUB_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"
#include "fedhub/publisher.h"
#include "fedhub/subscription.h"

namespace fedhub {

// A consent to record, in plain C++ types (see GrantConsentRequest for the rules).
struct ConsentGrant {
  // The person, by the calling platform's own id.
  std::string local_user_id;
  // The platform that may receive the data; empty for any member platform.
  std::string target_platform_id;
  std::vector<v1::DataCategory> categories;
  std::vector<v1::Purpose> purposes;
  // Unset: the hub's maximum consent lifetime.
  std::optional<std::chrono::system_clock::time_point> expires_at;
  // How the person gave it (required), and the platform's reference to the record of it.
  std::string evidence_method;
  std::string evidence_reference;
  // When the person gave it; unset leaves it to the hub. Must not be in the future.
  std::optional<std::chrono::system_clock::time_point> evidence_collected_at;
};

// Where Client::FollowConsents starts.
struct FollowConsentsOptions {
  // Deliver changes with a ledger sequence greater than this (the cursor the application
  // persisted); 0 replays everything that involves the caller.
  uint64_t after_sequence = 0;
  // Start at the current end of the ledger instead. Until the first change arrives there is
  // no cursor, so a reconnection in that window starts at the end again and may skip
  // changes made while disconnected; pass a persisted after_sequence when that matters.
  bool from_now = false;
};

class Client {
 public:
  // `reconnect` paces FollowConsents' reconnections; unary retries are the connection's.
  explicit Client(std::shared_ptr<Connection> connection, RetryPolicy reconnect = {});

  // A Client over MakeRetryingConnection(MakeGrpcConnection(options), options.retry).
  static absl::StatusOr<Client> Connect(const ClientOptions& options);

  const std::shared_ptr<Connection>& connection() const { return connection_; }

  // --- HubService ---------------------------------------------------------------------
  absl::StatusOr<v1::GetHubInfoResponse> GetHubInfo();

  // --- RegistryService (role admin) ---------------------------------------------------
  absl::StatusOr<v1::RegisterPrincipalResponse> RegisterPrincipal(
      const v1::RegisterPrincipalRequest& request);
  absl::StatusOr<v1::Principal> RegisterPrincipal(const v1::Principal& principal);
  absl::StatusOr<v1::SuspendPrincipalResponse> SuspendPrincipal(
      const v1::SuspendPrincipalRequest& request);
  absl::StatusOr<v1::Principal> SuspendPrincipal(const std::string& id,
                                                 const std::string& reason);
  absl::StatusOr<v1::ReinstatePrincipalResponse> ReinstatePrincipal(
      const v1::ReinstatePrincipalRequest& request);
  absl::StatusOr<v1::Principal> ReinstatePrincipal(const std::string& id,
                                                   const std::string& reason);
  absl::StatusOr<v1::GetPrincipalResponse> GetPrincipal(const v1::GetPrincipalRequest& request);
  absl::StatusOr<v1::Principal> GetPrincipal(const std::string& id);
  absl::StatusOr<v1::ListPrincipalsResponse> ListPrincipals(
      const v1::ListPrincipalsRequest& request);
  // Every page; `role` ROLE_UNSPECIFIED lists all roles.
  absl::StatusOr<std::vector<v1::Principal>> ListAllPrincipals(
      v1::Role role = v1::ROLE_UNSPECIFIED);

  // --- LinkingService (role platform) -------------------------------------------------
  absl::StatusOr<v1::CreateLinkTicketResponse> CreateLinkTicket(
      const v1::CreateLinkTicketRequest& request);
  absl::StatusOr<v1::CreateLinkTicketResponse> CreateLinkTicket(const std::string& local_user_id);
  absl::StatusOr<v1::RedeemLinkTicketResponse> RedeemLinkTicket(
      const v1::RedeemLinkTicketRequest& request);
  absl::StatusOr<v1::RedeemLinkTicketResponse> RedeemLinkTicket(
      const std::string& ticket, const std::string& local_user_id);
  absl::StatusOr<v1::UnlinkAccountResponse> UnlinkAccount(const v1::UnlinkAccountRequest& request);
  absl::StatusOr<v1::UnlinkAccountResponse> UnlinkAccount(const std::string& local_user_id);

  // --- ConsentService (role platform) -------------------------------------------------
  absl::StatusOr<v1::GrantConsentResponse> GrantConsent(const v1::GrantConsentRequest& request);
  absl::StatusOr<v1::GrantConsentResponse> GrantConsent(const ConsentGrant& grant);
  absl::StatusOr<v1::RevokeConsentResponse> RevokeConsent(const v1::RevokeConsentRequest& request);
  absl::StatusOr<v1::RevokeConsentResponse> RevokeConsent(const std::string& consent_id,
                                                          const std::string& local_user_id);
  absl::StatusOr<v1::CheckConsentResponse> CheckConsent(const v1::CheckConsentRequest& request);
  absl::StatusOr<v1::CheckConsentResponse> CheckConsent(const std::string& local_user_id,
                                                        const std::string& source_platform_id,
                                                        const std::string& target_platform_id,
                                                        v1::DataCategory category,
                                                        v1::Purpose purpose);
  absl::StatusOr<v1::ListConsentsResponse> ListConsents(const v1::ListConsentsRequest& request);
  // Every page.
  absl::StatusOr<std::vector<v1::Consent>> ListAllConsents(const std::string& local_user_id,
                                                           bool include_inactive = false);
  // One raw stream; it ends when the connection does. See FollowConsents for one that
  // survives reconnections.
  std::unique_ptr<ConsentWatchStream> WatchConsents(const v1::WatchConsentsRequest& request);

  // Calls `on_change` for each consent change, in ledger order, reconnecting from the last
  // delivered sequence whenever the stream drops (UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED,
  // a CANCELLED the caller did not ask for, or a clean end), with the `reconnect` policy's
  // backoff. A change at or before the last delivered sequence is never passed on twice.
  // Persist `change.sequence()` after handling a change to resume there after a restart.
  //
  // Returns OK when `on_change` returns false or `stop` is requested (from any thread: the
  // open stream is cancelled); the stream's status when the hub refuses it for another
  // reason (e.g. PERMISSION_DENIED); or the last failure when the hub stayed unreachable for
  // the policy's total_timeout in a row. Blocks the calling thread until then.
  absl::Status FollowConsents(
      const FollowConsentsOptions& options,
      const std::function<bool(const v1::WatchConsentsResponse&)>& on_change,
      std::stop_token stop = {});

  // --- AuditService (role auditor) ----------------------------------------------------
  absl::StatusOr<v1::ListChainEntriesResponse> ListChainEntries(
      const v1::ListChainEntriesRequest& request);
  absl::StatusOr<v1::ListChainEntriesResponse> ListChainEntries(v1::Chain chain,
                                                                uint64_t start_sequence,
                                                                int32_t page_size = 0);
  absl::StatusOr<v1::GetChainHeadResponse> GetChainHead(const v1::GetChainHeadRequest& request);
  absl::StatusOr<v1::ChainHead> GetChainHead(v1::Chain chain);
  absl::StatusOr<v1::VerifyChainResponse> VerifyChain(const v1::VerifyChainRequest& request);
  absl::StatusOr<v1::VerifyChainResponse> VerifyChain(v1::Chain chain);
  // Signed heads of the audit log's Merkle tree, and proofs against them. Check what they
  // return offline with the hub's public key (fedhub/verify.h: VerifyInclusionProof,
  // VerifyConsistencyProof). `tree_size` 0 means the newest signed head.
  absl::StatusOr<v1::SignedTreeHead> GetSignedTreeHead(uint64_t tree_size = 0);
  // Signs a head of the tree as it is now (role auditor or admin).
  absl::StatusOr<v1::SignedTreeHead> SignTreeHead();
  absl::StatusOr<v1::ListSignedTreeHeadsResponse> ListSignedTreeHeads(uint64_t start_number,
                                                                      int32_t page_size = 0);
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(uint64_t sequence, uint64_t tree_size = 0);
  absl::StatusOr<v1::ConsistencyProof> GetConsistencyProof(uint64_t first_tree_size,
                                                           uint64_t second_tree_size = 0);

  // --- ReportService (role auditor; a platform may read its own) ----------------------
  // One page of a consent report, as the hub streamed it: lines in order; the last message
  // has the signed head it was read at and next_sequence (0: complete; else set it as
  // start_sequence to read the next page). See docs/auditors.md.
  absl::StatusOr<std::vector<v1::ReportPersonResponse>> ReportPerson(const v1::ReportPersonRequest& request);
  absl::StatusOr<std::vector<v1::ReportPlatformResponse>> ReportPlatform(const v1::ReportPlatformRequest& request);

  // --- StreamService (role platform) --------------------------------------------------
  // A publisher that batches events and re-sends them across reconnections (see
  // fedhub/publisher.h). INVALID_ARGUMENT for bad options.
  absl::StatusOr<std::unique_ptr<Publisher>> NewPublisher(PublisherOptions options = {});
  // A subscription running on its own thread (see fedhub/subscription.h).
  std::unique_ptr<Subscription> Subscribe(SubscriptionOptions options,
                                          Subscription::Handler handler,
                                          Subscription::CursorHook commit_cursor = nullptr);
  // One raw Publish stream, for callers that manage batches and acknowledgements
  // themselves. It ends when the connection does.
  std::unique_ptr<PublishStream> OpenPublishStream();
  // One raw Subscribe stream. It ends when the connection does.
  std::unique_ptr<SubscribeStream> OpenSubscribeStream(const v1::SubscribeRequest& request);
  // Records that the data an erasure notice named was erased. Safe to repeat: the hub keeps
  // the first acknowledgement (already_acknowledged tells).
  absl::StatusOr<v1::AcknowledgeErasureResponse> AcknowledgeErasure(
      const v1::AcknowledgeErasureRequest& request);
  absl::StatusOr<v1::AcknowledgeErasureResponse> AcknowledgeErasure(const std::string& notice_id);
  // The event log's oldest and newest cursors.
  absl::StatusOr<v1::GetStreamInfoResponse> GetStreamInfo(const v1::GetStreamInfoRequest& request);
  absl::StatusOr<v1::GetStreamInfoResponse> GetStreamInfo();

  // --- CatalogueService (role platform) -----------------------------------------------
  absl::StatusOr<v1::SetSharingPolicyResponse> SetSharingPolicy(
      const v1::SetSharingPolicyRequest& request);
  // Replaces the caller's policy; returns the policy now in force.
  absl::StatusOr<v1::SharingPolicy> SetSharingPolicy(const v1::SharingPolicy& policy);
  absl::StatusOr<v1::GetSharingPolicyResponse> GetSharingPolicy(
      const v1::GetSharingPolicyRequest& request);
  absl::StatusOr<v1::SharingPolicy> GetSharingPolicy();
  absl::StatusOr<v1::ListCatalogueResponse> ListCatalogue(const v1::ListCatalogueRequest& request);
  // Every page: the items shared with the caller that match `filter` (an empty filter takes
  // all), or with `own` the caller's own published items.
  absl::StatusOr<std::vector<v1::SharedItem>> ListAllCatalogue(
      const v1::CatalogueFilter& filter = {}, bool own = false);

  // --- Receipts -----------------------------------------------------------------------
  // Verifies `receipt` with the key the hub reports now (GetHubInfo). To verify without
  // trusting the connection, use fedhub::VerifyReceipt with a key obtained out of band.
  absl::StatusOr<v1::ReceiptBody> VerifyReceipt(const v1::ConsentReceipt& receipt);

 private:
  std::shared_ptr<Connection> connection_;
  RetryPolicy reconnect_;
};

}  // namespace fedhub

#endif  // FEDHUB_CLIENT_H_
