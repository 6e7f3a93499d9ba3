// The real Connection: one mutual-TLS channel, one stub per service, a deadline per call.
#include "client/grpc_connection.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "client/grpc_status.h"
#include "client/grpc_streams.h"
#include "core/strings.h"
#include "fedhub/connection.h"
#include "fedhub/v1/audit.grpc.pb.h"
#include "fedhub/v1/catalogue.grpc.pb.h"
#include "fedhub/v1/consent.grpc.pb.h"
#include "fedhub/v1/hub.grpc.pb.h"
#include "fedhub/v1/linking.grpc.pb.h"
#include "fedhub/v1/registry.grpc.pb.h"
#include "fedhub/v1/report.grpc.pb.h"
#include "fedhub/v1/stream.grpc.pb.h"

#ifndef FEDHUB_SDK_VERSION
#error "FEDHUB_SDK_VERSION must be defined by the build"
#endif

namespace fedhub::client {
namespace {

class GrpcConnection final : public Connection {
 public:
  GrpcConnection(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds deadline)
      : channel_(std::move(channel)),
        deadline_(deadline),
        hub_(channel_),
        registry_(channel_),
        linking_(channel_),
        consent_(channel_),
        audit_(channel_),
        stream_(channel_),
        catalogue_(channel_),
        report_(channel_) {}

  absl::StatusOr<v1::GetHubInfoResponse> GetHubInfo(const v1::GetHubInfoRequest& r) override {
    return Unary(hub_, &v1::HubService::Stub::GetHubInfo, r);
  }

  absl::StatusOr<v1::RegisterPrincipalResponse> RegisterPrincipal(
      const v1::RegisterPrincipalRequest& r) override {
    return Unary(registry_, &v1::RegistryService::Stub::RegisterPrincipal, r);
  }
  absl::StatusOr<v1::SuspendPrincipalResponse> SuspendPrincipal(
      const v1::SuspendPrincipalRequest& r) override {
    return Unary(registry_, &v1::RegistryService::Stub::SuspendPrincipal, r);
  }
  absl::StatusOr<v1::ReinstatePrincipalResponse> ReinstatePrincipal(
      const v1::ReinstatePrincipalRequest& r) override {
    return Unary(registry_, &v1::RegistryService::Stub::ReinstatePrincipal, r);
  }
  absl::StatusOr<v1::GetPrincipalResponse> GetPrincipal(
      const v1::GetPrincipalRequest& r) override {
    return Unary(registry_, &v1::RegistryService::Stub::GetPrincipal, r);
  }
  absl::StatusOr<v1::ListPrincipalsResponse> ListPrincipals(
      const v1::ListPrincipalsRequest& r) override {
    return Unary(registry_, &v1::RegistryService::Stub::ListPrincipals, r);
  }

  absl::StatusOr<v1::CreateLinkTicketResponse> CreateLinkTicket(
      const v1::CreateLinkTicketRequest& r) override {
    return Unary(linking_, &v1::LinkingService::Stub::CreateLinkTicket, r);
  }
  absl::StatusOr<v1::RedeemLinkTicketResponse> RedeemLinkTicket(
      const v1::RedeemLinkTicketRequest& r) override {
    return Unary(linking_, &v1::LinkingService::Stub::RedeemLinkTicket, r);
  }
  absl::StatusOr<v1::UnlinkAccountResponse> UnlinkAccount(
      const v1::UnlinkAccountRequest& r) override {
    return Unary(linking_, &v1::LinkingService::Stub::UnlinkAccount, r);
  }

  absl::StatusOr<v1::GrantConsentResponse> GrantConsent(
      const v1::GrantConsentRequest& r) override {
    return Unary(consent_, &v1::ConsentService::Stub::GrantConsent, r);
  }
  absl::StatusOr<v1::RevokeConsentResponse> RevokeConsent(
      const v1::RevokeConsentRequest& r) override {
    return Unary(consent_, &v1::ConsentService::Stub::RevokeConsent, r);
  }
  absl::StatusOr<v1::CheckConsentResponse> CheckConsent(
      const v1::CheckConsentRequest& r) override {
    return Unary(consent_, &v1::ConsentService::Stub::CheckConsent, r);
  }
  absl::StatusOr<v1::ListConsentsResponse> ListConsents(
      const v1::ListConsentsRequest& r) override {
    return Unary(consent_, &v1::ConsentService::Stub::ListConsents, r);
  }
  std::unique_ptr<ConsentWatchStream> WatchConsents(const v1::WatchConsentsRequest& r) override {
    return OpenWatchConsents(consent_, r);
  }

  absl::StatusOr<v1::ListChainEntriesResponse> ListChainEntries(
      const v1::ListChainEntriesRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::ListChainEntries, r);
  }
  absl::StatusOr<v1::GetChainHeadResponse> GetChainHead(
      const v1::GetChainHeadRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::GetChainHead, r);
  }
  absl::StatusOr<v1::VerifyChainResponse> VerifyChain(const v1::VerifyChainRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::VerifyChain, r);
  }
  absl::StatusOr<v1::GetSignedTreeHeadResponse> GetSignedTreeHead(const v1::GetSignedTreeHeadRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::GetSignedTreeHead, r);
  }
  absl::StatusOr<v1::SignTreeHeadResponse> SignTreeHead(const v1::SignTreeHeadRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::SignTreeHead, r);
  }
  absl::StatusOr<v1::ListSignedTreeHeadsResponse> ListSignedTreeHeads(const v1::ListSignedTreeHeadsRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::ListSignedTreeHeads, r);
  }
  absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(const v1::GetInclusionProofRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::GetInclusionProof, r);
  }
  absl::StatusOr<v1::GetConsistencyProofResponse> GetConsistencyProof(const v1::GetConsistencyProofRequest& r) override {
    return Unary(audit_, &v1::AuditService::Stub::GetConsistencyProof, r);
  }

  std::unique_ptr<PublishStream> Publish() override { return OpenPublish(stream_); }
  std::unique_ptr<SubscribeStream> Subscribe(const v1::SubscribeRequest& r) override {
    return OpenSubscribe(stream_, r);
  }
  absl::StatusOr<v1::AcknowledgeErasureResponse> AcknowledgeErasure(
      const v1::AcknowledgeErasureRequest& r) override {
    return Unary(stream_, &v1::StreamService::Stub::AcknowledgeErasure, r);
  }
  absl::StatusOr<v1::GetStreamInfoResponse> GetStreamInfo(
      const v1::GetStreamInfoRequest& r) override {
    return Unary(stream_, &v1::StreamService::Stub::GetStreamInfo, r);
  }

  absl::StatusOr<v1::SetSharingPolicyResponse> SetSharingPolicy(
      const v1::SetSharingPolicyRequest& r) override {
    return Unary(catalogue_, &v1::CatalogueService::Stub::SetSharingPolicy, r);
  }
  absl::StatusOr<v1::GetSharingPolicyResponse> GetSharingPolicy(
      const v1::GetSharingPolicyRequest& r) override {
    return Unary(catalogue_, &v1::CatalogueService::Stub::GetSharingPolicy, r);
  }
  absl::StatusOr<v1::ListCatalogueResponse> ListCatalogue(
      const v1::ListCatalogueRequest& r) override {
    return Unary(catalogue_, &v1::CatalogueService::Stub::ListCatalogue, r);
  }
  absl::StatusOr<std::vector<v1::ReportPersonResponse>> ReportPerson(const v1::ReportPersonRequest& r) override {
    return ReadAll(report_, &v1::ReportService::Stub::ReportPerson, r);
  }
  absl::StatusOr<std::vector<v1::ReportPlatformResponse>> ReportPlatform(const v1::ReportPlatformRequest& r) override {
    return ReadAll(report_, &v1::ReportService::Stub::ReportPlatform, r);
  }

 private:
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
      const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline_);
    Response response;
    grpc::Status status = (stub.*method)(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  // A server stream read to its end. A report page reads the audit log from its start, so it
  // gets ten times the unary deadline.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<std::vector<Response>> ReadAll(
      Stub& stub,
      std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(grpc::ClientContext*, const Request&),
      const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10 * deadline_);
    std::unique_ptr<grpc::ClientReader<Response>> reader = (stub.*method)(&context, request);
    std::vector<Response> out;
    for (Response r; reader->Read(&r);) out.push_back(std::move(r));
    grpc::Status status = reader->Finish();
    if (!status.ok()) return FromGrpcStatus(status);
    return out;
  }

  const std::shared_ptr<grpc::Channel> channel_;
  const std::chrono::milliseconds deadline_;
  // Generated stubs are thread-safe; calls on them share the channel's connection.
  v1::HubService::Stub hub_;
  v1::RegistryService::Stub registry_;
  v1::LinkingService::Stub linking_;
  v1::ConsentService::Stub consent_;
  v1::AuditService::Stub audit_;
  v1::StreamService::Stub stream_;
  v1::CatalogueService::Stub catalogue_;
  v1::ReportService::Stub report_;
};

}  // namespace

grpc::ChannelArguments MakeChannelArguments(const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // gRPC stops pinging after 2 pings without data by default, which would leave an idle
  // watch stream on a dead connection undetected; 0 lifts that limit (the pings stay
  // kKeepaliveTimeMs apart).
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Reconnect to a restarted hub within ~100 ms rather than gRPC's default first backoff
  // of 1 s; later attempts still back off (to 10 s) while the hub stays away.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10000);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC C-core uses it as the *minimum connect
  // timeout* (how long one TCP + TLS + HTTP/2 SETTINGS exchange may take, default 20 s).
  // Set low, a loaded machine or a distant hub fails every handshake that takes longer
  // ("connection attempt timed out before receiving SETTINGS frame"). A refused connection
  // still fails at once and is retried after the initial backoff above.
  args.SetUserAgentPrefix(Cat("fedhub-sdk-cpp/", FEDHUB_SDK_VERSION));
  if (!options.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.server_name_override);
  }
  return args;
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* field) {
  if (path.empty()) {
    return absl::InvalidArgumentError(Cat(
        "ClientOptions.", field, " is empty; the hub accepts only mutual TLS, so name a PEM "
        "file (ClientOptions::ForPrincipal fills all three from a certificate directory)"));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    const int err = errno;
    return absl::InvalidArgumentError(Cat("cannot open ClientOptions.", field, " '", path,
                                          "': ", err != 0 ? std::strerror(err) : "open failed"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  // A directory opens on Linux but fails on the first read.
  if (in.bad() || content.str().empty()) {
    return absl::InvalidArgumentError(Cat("cannot read ClientOptions.", field, " '", path,
                                          "': empty or unreadable (is it a directory?)"));
  }
  if (content.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(Cat("ClientOptions.", field, " '", path,
                                          "' is not a PEM file (no -----BEGIN line)"));
  }
  return content.str();
}

}  // namespace fedhub::client

namespace fedhub {

absl::StatusOr<std::shared_ptr<Connection>> MakeGrpcConnection(const ClientOptions& options) {
  if (options.endpoint.empty()) {
    return absl::InvalidArgumentError("ClientOptions.endpoint is empty; give the hub's host:port");
  }
  if (options.deadline <= std::chrono::milliseconds(0)) {
    return absl::InvalidArgumentError("ClientOptions.deadline must be positive");
  }
  absl::StatusOr<std::string> ca = client::ReadPemFile(options.ca_cert_file, "ca_cert_file");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = client::ReadPemFile(options.cert_file, "cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = client::ReadPemFile(options.key_file, "key_file");
  if (!key.ok()) return key.status();

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *std::move(ca);
  ssl.pem_cert_chain = *std::move(cert);
  ssl.pem_private_key = *std::move(key);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      options.endpoint, grpc::SslCredentials(ssl), client::MakeChannelArguments(options));
  if (channel == nullptr) {
    return absl::InvalidArgumentError(
        Cat("cannot create a channel to '", options.endpoint, "'"));
  }
  return std::shared_ptr<Connection>(
      std::make_shared<client::GrpcConnection>(std::move(channel), options.deadline));
}

}  // namespace fedhub
