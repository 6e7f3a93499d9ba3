#include "fedhub/client.h"

#include <utility>

#include <google/protobuf/util/time_util.h>

#include "client/backoff.h"
#include "client/follow_consents.h"
#include "fedhub/verify.h"

namespace fedhub {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t) {
  return TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

// Follows next_page_token until it is empty; `fetch` returns one page's token or an error.
template <typename FetchPage>
absl::Status ForEachPage(FetchPage fetch) {
  std::string token;
  while (true) {
    absl::StatusOr<std::string> next = fetch(token);
    if (!next.ok()) return next.status();
    if (next->empty()) return absl::OkStatus();
    // A token that does not move would loop forever; it is the hub's bug, say so.
    if (*next == token) {
      return absl::InternalError("the hub returned the same page token twice; paging stopped");
    }
    token = *std::move(next);
  }
}

}  // namespace

Client::Client(std::shared_ptr<Connection> connection, RetryPolicy reconnect)
    : connection_(std::move(connection)), reconnect_(client::Normalized(reconnect)) {}

absl::StatusOr<Client> Client::Connect(const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<Connection>> grpc = MakeGrpcConnection(options);
  if (!grpc.ok()) return grpc.status();
  return Client(MakeRetryingConnection(*std::move(grpc), options.retry), options.retry);
}

absl::StatusOr<v1::GetHubInfoResponse> Client::GetHubInfo() {
  return connection_->GetHubInfo(v1::GetHubInfoRequest());
}

// --- RegistryService -------------------------------------------------------------------

absl::StatusOr<v1::RegisterPrincipalResponse> Client::RegisterPrincipal(
    const v1::RegisterPrincipalRequest& request) {
  return connection_->RegisterPrincipal(request);
}

absl::StatusOr<v1::Principal> Client::RegisterPrincipal(const v1::Principal& principal) {
  v1::RegisterPrincipalRequest request;
  *request.mutable_principal() = principal;
  auto response = connection_->RegisterPrincipal(request);
  if (!response.ok()) return response.status();
  return response->principal();
}

absl::StatusOr<v1::SuspendPrincipalResponse> Client::SuspendPrincipal(
    const v1::SuspendPrincipalRequest& request) {
  return connection_->SuspendPrincipal(request);
}

absl::StatusOr<v1::Principal> Client::SuspendPrincipal(const std::string& id,
                                                       const std::string& reason) {
  v1::SuspendPrincipalRequest request;
  request.set_id(id);
  request.set_reason(reason);
  auto response = connection_->SuspendPrincipal(request);
  if (!response.ok()) return response.status();
  return response->principal();
}

absl::StatusOr<v1::ReinstatePrincipalResponse> Client::ReinstatePrincipal(
    const v1::ReinstatePrincipalRequest& request) {
  return connection_->ReinstatePrincipal(request);
}

absl::StatusOr<v1::Principal> Client::ReinstatePrincipal(const std::string& id,
                                                         const std::string& reason) {
  v1::ReinstatePrincipalRequest request;
  request.set_id(id);
  request.set_reason(reason);
  auto response = connection_->ReinstatePrincipal(request);
  if (!response.ok()) return response.status();
  return response->principal();
}

absl::StatusOr<v1::GetPrincipalResponse> Client::GetPrincipal(
    const v1::GetPrincipalRequest& request) {
  return connection_->GetPrincipal(request);
}

absl::StatusOr<v1::Principal> Client::GetPrincipal(const std::string& id) {
  v1::GetPrincipalRequest request;
  request.set_id(id);
  auto response = connection_->GetPrincipal(request);
  if (!response.ok()) return response.status();
  return response->principal();
}

absl::StatusOr<v1::ListPrincipalsResponse> Client::ListPrincipals(
    const v1::ListPrincipalsRequest& request) {
  return connection_->ListPrincipals(request);
}

absl::StatusOr<std::vector<v1::Principal>> Client::ListAllPrincipals(v1::Role role) {
  std::vector<v1::Principal> all;
  absl::Status status = ForEachPage([&](const std::string& token) -> absl::StatusOr<std::string> {
    v1::ListPrincipalsRequest request;
    request.set_role(role);
    request.mutable_page()->set_page_size(1000);
    request.mutable_page()->set_page_token(token);
    auto page = connection_->ListPrincipals(request);
    if (!page.ok()) return page.status();
    all.insert(all.end(), page->principals().begin(), page->principals().end());
    return page->next_page_token();
  });
  if (!status.ok()) return status;
  return all;
}

// --- LinkingService --------------------------------------------------------------------

absl::StatusOr<v1::CreateLinkTicketResponse> Client::CreateLinkTicket(
    const v1::CreateLinkTicketRequest& request) {
  return connection_->CreateLinkTicket(request);
}

absl::StatusOr<v1::CreateLinkTicketResponse> Client::CreateLinkTicket(
    const std::string& local_user_id) {
  v1::CreateLinkTicketRequest request;
  request.mutable_user()->set_local_user_id(local_user_id);
  return connection_->CreateLinkTicket(request);
}

absl::StatusOr<v1::RedeemLinkTicketResponse> Client::RedeemLinkTicket(
    const v1::RedeemLinkTicketRequest& request) {
  return connection_->RedeemLinkTicket(request);
}

absl::StatusOr<v1::RedeemLinkTicketResponse> Client::RedeemLinkTicket(
    const std::string& ticket, const std::string& local_user_id) {
  v1::RedeemLinkTicketRequest request;
  request.set_ticket(ticket);
  request.mutable_user()->set_local_user_id(local_user_id);
  return connection_->RedeemLinkTicket(request);
}

absl::StatusOr<v1::UnlinkAccountResponse> Client::UnlinkAccount(
    const v1::UnlinkAccountRequest& request) {
  return connection_->UnlinkAccount(request);
}

absl::StatusOr<v1::UnlinkAccountResponse> Client::UnlinkAccount(
    const std::string& local_user_id) {
  v1::UnlinkAccountRequest request;
  request.mutable_user()->set_local_user_id(local_user_id);
  return connection_->UnlinkAccount(request);
}

// --- ConsentService --------------------------------------------------------------------

absl::StatusOr<v1::GrantConsentResponse> Client::GrantConsent(
    const v1::GrantConsentRequest& request) {
  return connection_->GrantConsent(request);
}

absl::StatusOr<v1::GrantConsentResponse> Client::GrantConsent(const ConsentGrant& grant) {
  v1::GrantConsentRequest request;
  request.mutable_user()->set_local_user_id(grant.local_user_id);
  request.set_target_platform_id(grant.target_platform_id);
  for (v1::DataCategory c : grant.categories) request.add_categories(c);
  for (v1::Purpose p : grant.purposes) request.add_purposes(p);
  if (grant.expires_at) *request.mutable_expires_at() = ToTimestamp(*grant.expires_at);
  v1::ConsentEvidence* evidence = request.mutable_evidence();
  evidence->set_method(grant.evidence_method);
  evidence->set_reference(grant.evidence_reference);
  if (grant.evidence_collected_at) {
    *evidence->mutable_collected_at() = ToTimestamp(*grant.evidence_collected_at);
  }
  return connection_->GrantConsent(request);
}

absl::StatusOr<v1::RevokeConsentResponse> Client::RevokeConsent(
    const v1::RevokeConsentRequest& request) {
  return connection_->RevokeConsent(request);
}

absl::StatusOr<v1::RevokeConsentResponse> Client::RevokeConsent(
    const std::string& consent_id, const std::string& local_user_id) {
  v1::RevokeConsentRequest request;
  request.set_consent_id(consent_id);
  request.mutable_user()->set_local_user_id(local_user_id);
  return connection_->RevokeConsent(request);
}

absl::StatusOr<v1::CheckConsentResponse> Client::CheckConsent(
    const v1::CheckConsentRequest& request) {
  return connection_->CheckConsent(request);
}

absl::StatusOr<v1::CheckConsentResponse> Client::CheckConsent(
    const std::string& local_user_id, const std::string& source_platform_id,
    const std::string& target_platform_id, v1::DataCategory category, v1::Purpose purpose) {
  v1::CheckConsentRequest request;
  request.mutable_user()->set_local_user_id(local_user_id);
  request.set_source_platform_id(source_platform_id);
  request.set_target_platform_id(target_platform_id);
  request.set_category(category);
  request.set_purpose(purpose);
  return connection_->CheckConsent(request);
}

absl::StatusOr<v1::ListConsentsResponse> Client::ListConsents(
    const v1::ListConsentsRequest& request) {
  return connection_->ListConsents(request);
}

absl::StatusOr<std::vector<v1::Consent>> Client::ListAllConsents(const std::string& local_user_id,
                                                                 bool include_inactive) {
  std::vector<v1::Consent> all;
  absl::Status status = ForEachPage([&](const std::string& token) -> absl::StatusOr<std::string> {
    v1::ListConsentsRequest request;
    request.mutable_user()->set_local_user_id(local_user_id);
    request.set_include_inactive(include_inactive);
    request.mutable_page()->set_page_size(1000);
    request.mutable_page()->set_page_token(token);
    auto page = connection_->ListConsents(request);
    if (!page.ok()) return page.status();
    all.insert(all.end(), page->consents().begin(), page->consents().end());
    return page->next_page_token();
  });
  if (!status.ok()) return status;
  return all;
}

std::unique_ptr<ConsentWatchStream> Client::WatchConsents(
    const v1::WatchConsentsRequest& request) {
  return connection_->WatchConsents(request);
}

absl::Status Client::FollowConsents(
    const FollowConsentsOptions& options,
    const std::function<bool(const v1::WatchConsentsResponse&)>& on_change,
    std::stop_token stop) {
  return client::FollowConsents(*connection_, reconnect_, client::FollowEnvironment::Real(),
                                options, on_change, std::move(stop));
}

// --- AuditService ----------------------------------------------------------------------

absl::StatusOr<v1::ListChainEntriesResponse> Client::ListChainEntries(
    const v1::ListChainEntriesRequest& request) {
  return connection_->ListChainEntries(request);
}

absl::StatusOr<v1::ListChainEntriesResponse> Client::ListChainEntries(v1::Chain chain,
                                                                      uint64_t start_sequence,
                                                                      int32_t page_size) {
  v1::ListChainEntriesRequest request;
  request.set_chain(chain);
  request.set_start_sequence(start_sequence);
  request.set_page_size(page_size);
  return connection_->ListChainEntries(request);
}

absl::StatusOr<v1::GetChainHeadResponse> Client::GetChainHead(
    const v1::GetChainHeadRequest& request) {
  return connection_->GetChainHead(request);
}

absl::StatusOr<v1::ChainHead> Client::GetChainHead(v1::Chain chain) {
  v1::GetChainHeadRequest request;
  request.set_chain(chain);
  auto response = connection_->GetChainHead(request);
  if (!response.ok()) return response.status();
  return response->head();
}

absl::StatusOr<v1::VerifyChainResponse> Client::VerifyChain(
    const v1::VerifyChainRequest& request) {
  return connection_->VerifyChain(request);
}

absl::StatusOr<v1::SignedTreeHead> Client::GetSignedTreeHead(uint64_t tree_size) {
  v1::GetSignedTreeHeadRequest request;
  request.set_tree_size(tree_size);
  auto response = connection_->GetSignedTreeHead(request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_head());
}

absl::StatusOr<v1::SignedTreeHead> Client::SignTreeHead() {
  auto response = connection_->SignTreeHead(v1::SignTreeHeadRequest());
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_head());
}

absl::StatusOr<v1::ListSignedTreeHeadsResponse> Client::ListSignedTreeHeads(uint64_t start_number,
                                                                            int32_t page_size) {
  v1::ListSignedTreeHeadsRequest request;
  request.set_start_number(start_number);
  request.set_page_size(page_size);
  return connection_->ListSignedTreeHeads(request);
}

absl::StatusOr<v1::InclusionProof> Client::GetInclusionProof(uint64_t sequence, uint64_t tree_size) {
  v1::GetInclusionProofRequest request;
  request.set_sequence(sequence);
  request.set_tree_size(tree_size);
  auto response = connection_->GetInclusionProof(request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_proof());
}

absl::StatusOr<v1::ConsistencyProof> Client::GetConsistencyProof(uint64_t first_tree_size,
                                                                 uint64_t second_tree_size) {
  v1::GetConsistencyProofRequest request;
  request.set_first_tree_size(first_tree_size);
  request.set_second_tree_size(second_tree_size);
  auto response = connection_->GetConsistencyProof(request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_proof());
}

absl::StatusOr<std::vector<v1::ReportPersonResponse>> Client::ReportPerson(const v1::ReportPersonRequest& request) {
  return connection_->ReportPerson(request);
}

absl::StatusOr<std::vector<v1::ReportPlatformResponse>> Client::ReportPlatform(
    const v1::ReportPlatformRequest& request) {
  return connection_->ReportPlatform(request);
}

absl::StatusOr<v1::VerifyChainResponse> Client::VerifyChain(v1::Chain chain) {
  v1::VerifyChainRequest request;
  request.set_chain(chain);
  return connection_->VerifyChain(request);
}

// --- StreamService ---------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Publisher>> Client::NewPublisher(PublisherOptions options) {
  return Publisher::Start(connection_, std::move(options));
}

std::unique_ptr<Subscription> Client::Subscribe(SubscriptionOptions options,
                                                Subscription::Handler handler,
                                                Subscription::CursorHook commit_cursor) {
  return Subscription::Start(connection_, std::move(options), std::move(handler),
                             std::move(commit_cursor));
}

std::unique_ptr<PublishStream> Client::OpenPublishStream() { return connection_->Publish(); }

std::unique_ptr<SubscribeStream> Client::OpenSubscribeStream(const v1::SubscribeRequest& request) {
  return connection_->Subscribe(request);
}

absl::StatusOr<v1::AcknowledgeErasureResponse> Client::AcknowledgeErasure(
    const v1::AcknowledgeErasureRequest& request) {
  return connection_->AcknowledgeErasure(request);
}

absl::StatusOr<v1::AcknowledgeErasureResponse> Client::AcknowledgeErasure(
    const std::string& notice_id) {
  v1::AcknowledgeErasureRequest request;
  request.set_notice_id(notice_id);
  return connection_->AcknowledgeErasure(request);
}

absl::StatusOr<v1::GetStreamInfoResponse> Client::GetStreamInfo(
    const v1::GetStreamInfoRequest& request) {
  return connection_->GetStreamInfo(request);
}

absl::StatusOr<v1::GetStreamInfoResponse> Client::GetStreamInfo() {
  return connection_->GetStreamInfo(v1::GetStreamInfoRequest());
}

// --- CatalogueService ------------------------------------------------------------------

absl::StatusOr<v1::SetSharingPolicyResponse> Client::SetSharingPolicy(
    const v1::SetSharingPolicyRequest& request) {
  return connection_->SetSharingPolicy(request);
}

absl::StatusOr<v1::SharingPolicy> Client::SetSharingPolicy(const v1::SharingPolicy& policy) {
  v1::SetSharingPolicyRequest request;
  *request.mutable_policy() = policy;
  auto response = connection_->SetSharingPolicy(request);
  if (!response.ok()) return response.status();
  return response->policy();
}

absl::StatusOr<v1::GetSharingPolicyResponse> Client::GetSharingPolicy(
    const v1::GetSharingPolicyRequest& request) {
  return connection_->GetSharingPolicy(request);
}

absl::StatusOr<v1::SharingPolicy> Client::GetSharingPolicy() {
  auto response = connection_->GetSharingPolicy(v1::GetSharingPolicyRequest());
  if (!response.ok()) return response.status();
  return response->policy();
}

absl::StatusOr<v1::ListCatalogueResponse> Client::ListCatalogue(
    const v1::ListCatalogueRequest& request) {
  return connection_->ListCatalogue(request);
}

absl::StatusOr<std::vector<v1::SharedItem>> Client::ListAllCatalogue(
    const v1::CatalogueFilter& filter, bool own) {
  std::vector<v1::SharedItem> all;
  absl::Status status = ForEachPage([&](const std::string& token) -> absl::StatusOr<std::string> {
    v1::ListCatalogueRequest request;
    *request.mutable_filter() = filter;
    request.set_own(own);
    request.mutable_page()->set_page_size(1000);
    request.mutable_page()->set_page_token(token);
    auto page = connection_->ListCatalogue(request);
    if (!page.ok()) return page.status();
    all.insert(all.end(), page->items().begin(), page->items().end());
    return page->next_page_token();
  });
  if (!status.ok()) return status;
  return all;
}

// --- Receipts --------------------------------------------------------------------------

absl::StatusOr<v1::ReceiptBody> Client::VerifyReceipt(const v1::ConsentReceipt& receipt) {
  auto info = GetHubInfo();
  if (!info.ok()) return info.status();
  return fedhub::VerifyReceipt(receipt, info->signing_public_key());
}

}  // namespace fedhub
