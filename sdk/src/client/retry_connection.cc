#include "client/retry_connection.h"

#include <thread>
#include <utility>

#include "client/backoff.h"

namespace fedhub::client {
namespace {

using Clock = std::chrono::steady_clock;

class RetryingConnection final : public Connection {
 public:
  RetryingConnection(std::shared_ptr<Connection> inner, RetryPolicy policy,
                     RetryEnvironment env)
      : inner_(std::move(inner)), policy_(Normalized(policy)), env_(std::move(env)) {}

  absl::StatusOr<v1::GetHubInfoResponse> GetHubInfo(const v1::GetHubInfoRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetHubInfo, r);
  }

  absl::StatusOr<v1::RegisterPrincipalResponse> RegisterPrincipal(
      const v1::RegisterPrincipalRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::RegisterPrincipal, r);
  }
  absl::StatusOr<v1::SuspendPrincipalResponse> SuspendPrincipal(
      const v1::SuspendPrincipalRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::SuspendPrincipal, r);
  }
  absl::StatusOr<v1::ReinstatePrincipalResponse> ReinstatePrincipal(
      const v1::ReinstatePrincipalRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::ReinstatePrincipal, r);
  }
  absl::StatusOr<v1::GetPrincipalResponse> GetPrincipal(
      const v1::GetPrincipalRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetPrincipal, r);
  }
  absl::StatusOr<v1::ListPrincipalsResponse> ListPrincipals(
      const v1::ListPrincipalsRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ListPrincipals, r);
  }

  absl::StatusOr<v1::CreateLinkTicketResponse> CreateLinkTicket(
      const v1::CreateLinkTicketRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::CreateLinkTicket, r);
  }
  absl::StatusOr<v1::RedeemLinkTicketResponse> RedeemLinkTicket(
      const v1::RedeemLinkTicketRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::RedeemLinkTicket, r);
  }
  absl::StatusOr<v1::UnlinkAccountResponse> UnlinkAccount(
      const v1::UnlinkAccountRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::UnlinkAccount, r);
  }

  absl::StatusOr<v1::GrantConsentResponse> GrantConsent(
      const v1::GrantConsentRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::GrantConsent, r);
  }
  absl::StatusOr<v1::RevokeConsentResponse> RevokeConsent(
      const v1::RevokeConsentRequest& r) override {
    return Call(Idempotency::kNonIdempotent, &Connection::RevokeConsent, r);
  }
  absl::StatusOr<v1::CheckConsentResponse> CheckConsent(
      const v1::CheckConsentRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::CheckConsent, r);
  }
  absl::StatusOr<v1::ListConsentsResponse> ListConsents(
      const v1::ListConsentsRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ListConsents, r);
  }
  // A stream is resumed by the application from its last sequence (Client::FollowConsents
  // does it), never replayed here: a retry could not know what the caller already read.
  std::unique_ptr<ConsentWatchStream> WatchConsents(const v1::WatchConsentsRequest& r) override {
    return inner_->WatchConsents(r);
  }

  absl::StatusOr<v1::ListChainEntriesResponse> ListChainEntries(
      const v1::ListChainEntriesRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ListChainEntries, r);
  }
  absl::StatusOr<v1::GetChainHeadResponse> GetChainHead(
      const v1::GetChainHeadRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetChainHead, r);
  }
  absl::StatusOr<v1::VerifyChainResponse> VerifyChain(const v1::VerifyChainRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::VerifyChain, r);
  }
  absl::StatusOr<std::vector<v1::ReportPersonResponse>> ReportPerson(const v1::ReportPersonRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ReportPerson, r);
  }
  absl::StatusOr<std::vector<v1::ReportPlatformResponse>> ReportPlatform(const v1::ReportPlatformRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ReportPlatform, r);
  }
  // Signing a head twice only adds a head, so SignTreeHead is retried too.
  absl::StatusOr<v1::GetSignedTreeHeadResponse> GetSignedTreeHead(const v1::GetSignedTreeHeadRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetSignedTreeHead, r);
  }
  absl::StatusOr<v1::SignTreeHeadResponse> SignTreeHead(const v1::SignTreeHeadRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::SignTreeHead, r);
  }
  absl::StatusOr<v1::ListSignedTreeHeadsResponse> ListSignedTreeHeads(const v1::ListSignedTreeHeadsRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ListSignedTreeHeads, r);
  }
  absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(const v1::GetInclusionProofRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetInclusionProof, r);
  }
  absl::StatusOr<v1::GetConsistencyProofResponse> GetConsistencyProof(const v1::GetConsistencyProofRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetConsistencyProof, r);
  }

  // Publisher and Subscription resume these from what they know was acknowledged or
  // processed; a retry here could not know that.
  std::unique_ptr<PublishStream> Publish() override { return inner_->Publish(); }
  std::unique_ptr<SubscribeStream> Subscribe(const v1::SubscribeRequest& r) override {
    return inner_->Subscribe(r);
  }
  // Repeating it records nothing new: the hub keeps the first acknowledgement.
  absl::StatusOr<v1::AcknowledgeErasureResponse> AcknowledgeErasure(
      const v1::AcknowledgeErasureRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::AcknowledgeErasure, r);
  }
  absl::StatusOr<v1::GetStreamInfoResponse> GetStreamInfo(
      const v1::GetStreamInfoRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetStreamInfo, r);
  }

  // The request replaces the whole policy, so a repeat leaves the same policy in force.
  absl::StatusOr<v1::SetSharingPolicyResponse> SetSharingPolicy(
      const v1::SetSharingPolicyRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::SetSharingPolicy, r);
  }
  absl::StatusOr<v1::GetSharingPolicyResponse> GetSharingPolicy(
      const v1::GetSharingPolicyRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::GetSharingPolicy, r);
  }
  absl::StatusOr<v1::ListCatalogueResponse> ListCatalogue(
      const v1::ListCatalogueRequest& r) override {
    return Call(Idempotency::kIdempotent, &Connection::ListCatalogue, r);
  }

 private:
  // Runs `method` on the inner connection, retrying under the policy. The result is the
  // last attempt's, unchanged, so the caller sees the hub's own code and message.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(Idempotency idempotency,
                                absl::StatusOr<Response> (Connection::*method)(const Request&),
                                const Request& request) {
    const Clock::time_point start = env_.now();
    Backoff backoff(policy_, env_.uniform01);
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<Response> result = ((*inner_).*method)(request);
      if (result.ok() || !IsRetryable(result.status(), idempotency)) return result;
      if (attempt >= policy_.max_attempts) return result;
      const std::chrono::milliseconds delay = backoff.NextDelay();
      // A retry that would start past the budget does not run, so sleeping for it would
      // only delay the same answer.
      if (env_.now() + delay - start > policy_.total_timeout) return result;
      env_.sleep(delay);
    }
  }

  const std::shared_ptr<Connection> inner_;
  const RetryPolicy policy_;
  const RetryEnvironment env_;
};

}  // namespace

RetryEnvironment RetryEnvironment::Real() {
  return RetryEnvironment{
      .now = [] { return Clock::now(); },
      .sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
      .uniform01 = UniformRandom01,
  };
}

bool IsRetryable(const absl::Status& status, Idempotency idempotency) {
  if (idempotency != Idempotency::kIdempotent) return false;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   RetryPolicy policy, RetryEnvironment env) {
  return std::make_shared<RetryingConnection>(std::move(inner), policy, std::move(env));
}

}  // namespace fedhub::client

namespace fedhub {

std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   RetryPolicy policy) {
  return client::MakeRetryingConnection(std::move(inner), policy,
                                        client::RetryEnvironment::Real());
}

}  // namespace fedhub
