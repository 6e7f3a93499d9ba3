// Test doubles for the SDK: a scripted fedhub::Connection and a fake clock.
#ifndef FEDHUB_TESTS_SDK_FAKE_CONNECTION_H_
#define FEDHUB_TESTS_SDK_FAKE_CONNECTION_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fake_streams.h"
#include "fedhub/connection.h"

namespace fedhub::testing {

// Time that moves only when a test (or a fake sleep) moves it.
class FakeClock {
 public:
  std::chrono::steady_clock::time_point Now() const {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  // A sleep that records the delay and advances the clock by it.
  void Sleep(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    sleeps_.push_back(d);
    now_ += d;
  }
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  std::chrono::milliseconds Elapsed() const {
    std::lock_guard lock(mu_);
    return std::chrono::duration_cast<std::chrono::milliseconds>(now_ - start_);
  }

 private:
  mutable std::mutex mu_;
  const std::chrono::steady_clock::time_point start_{std::chrono::hours(1)};
  std::chrono::steady_clock::time_point now_ = start_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

// What one WatchConsents stream does: deliver `changes`, then end with `end`. With
// `block_until_cancelled`, Read blocks after the changes until Cancel is called.
struct StreamScript {
  std::vector<uint64_t> sequences;
  absl::Status end;
  bool block_until_cancelled = false;
  // Runs once, when Read first returns false (e.g. to let fake time pass while open).
  std::function<void()> on_end;
};

class ScriptedStream final : public ConsentWatchStream {
 public:
  explicit ScriptedStream(StreamScript script) : script_(std::move(script)) {}

  bool Read(v1::WatchConsentsResponse* change) override {
    std::unique_lock lock(mu_);
    if (cancelled_) return false;
    if (next_ < script_.sequences.size()) {
      change->Clear();
      change->set_sequence(script_.sequences[next_++]);
      change->set_kind(v1::CONSENT_CHANGE_KIND_GRANTED);
      return true;
    }
    if (script_.block_until_cancelled) cv_.wait(lock, [this] { return cancelled_; });
    if (!ended_ && script_.on_end) script_.on_end();
    ended_ = true;
    return false;
  }
  absl::Status Finish() override {
    std::lock_guard lock(mu_);
    if (cancelled_) return absl::CancelledError("cancelled by the client");
    return script_.end;
  }
  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const StreamScript script_;
  size_t next_ = 0;
  bool cancelled_ = false;
  bool ended_ = false;
};

// Every unary call fails while failures remain (with the chosen code and message), then
// succeeds with a default response (GetHubInfo answers `hub_info`). Counts calls per
// method; `on_call` runs inside each attempt (e.g. to advance a fake clock by the time
// an attempt takes). WatchConsents plays `streams` in order, then streams that end
// UNAVAILABLE at once. Publish and Subscribe open the calls queued with AddPublishCall /
// AddSubscribeCall in order, then fresh calls that wait for the test to play them; the
// test finds every opened call with OpenedPublishCall / OpenedSubscribeCall.
class FakeConnection : public Connection {
 public:
  void FailNext(int failures, absl::StatusCode code, std::string message = "hub said no") {
    std::lock_guard lock(mu_);
    failures_left_ = failures;
    failure_ = absl::Status(code, message);
  }
  int calls(const std::string& method) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(method);
    return it == calls_.end() ? 0 : it->second;
  }
  int total_calls() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [_, c] : calls_) n += c;
    return n;
  }
  void AddStream(StreamScript script) {
    std::lock_guard lock(mu_);
    streams_.push_back(std::move(script));
  }
  std::vector<v1::WatchConsentsRequest> watch_requests() const {
    std::lock_guard lock(mu_);
    return watch_requests_;
  }

  std::shared_ptr<FakePublishCall> AddPublishCall() {
    std::lock_guard lock(mu_);
    return queued_publish_.emplace_back(std::make_shared<FakePublishCall>());
  }
  std::shared_ptr<FakeSubscribeCall> AddSubscribeCall() {
    std::lock_guard lock(mu_);
    return queued_subscribe_.emplace_back(std::make_shared<FakeSubscribeCall>());
  }
  // The n-th Publish call opened (from 0); null if it was not opened in time.
  std::shared_ptr<FakePublishCall> OpenedPublishCall(size_t n) {
    std::unique_lock lock(mu_);
    if (!opened_cv_.wait_for(lock, kFakeStreamWait,
                             [&] { return opened_publish_.size() > n; })) {
      return nullptr;
    }
    return opened_publish_[n];
  }
  // The n-th Subscribe call opened (from 0) and its request; null if not opened in time.
  std::shared_ptr<FakeSubscribeCall> OpenedSubscribeCall(size_t n,
                                                         v1::SubscribeRequest* request = nullptr) {
    std::unique_lock lock(mu_);
    if (!opened_cv_.wait_for(lock, kFakeStreamWait,
                             [&] { return opened_subscribe_.size() > n; })) {
      return nullptr;
    }
    if (request != nullptr) *request = subscribe_requests_[n];
    return opened_subscribe_[n];
  }
  size_t publish_calls() const {
    std::lock_guard lock(mu_);
    return opened_publish_.size();
  }
  size_t subscribe_calls() const {
    std::lock_guard lock(mu_);
    return opened_subscribe_.size();
  }

  v1::GetHubInfoResponse hub_info;
  std::function<void()> on_call;

  absl::StatusOr<v1::GetHubInfoResponse> GetHubInfo(const v1::GetHubInfoRequest&) override {
    absl::Status s = Attempt("GetHubInfo");
    if (!s.ok()) return s;
    return hub_info;
  }
  absl::StatusOr<v1::RegisterPrincipalResponse> RegisterPrincipal(
      const v1::RegisterPrincipalRequest&) override {
    return Answer<v1::RegisterPrincipalResponse>("RegisterPrincipal");
  }
  absl::StatusOr<v1::SuspendPrincipalResponse> SuspendPrincipal(
      const v1::SuspendPrincipalRequest&) override {
    return Answer<v1::SuspendPrincipalResponse>("SuspendPrincipal");
  }
  absl::StatusOr<v1::ReinstatePrincipalResponse> ReinstatePrincipal(
      const v1::ReinstatePrincipalRequest&) override {
    return Answer<v1::ReinstatePrincipalResponse>("ReinstatePrincipal");
  }
  absl::StatusOr<v1::GetPrincipalResponse> GetPrincipal(const v1::GetPrincipalRequest&) override {
    return Answer<v1::GetPrincipalResponse>("GetPrincipal");
  }
  absl::StatusOr<v1::ListPrincipalsResponse> ListPrincipals(
      const v1::ListPrincipalsRequest&) override {
    return Answer<v1::ListPrincipalsResponse>("ListPrincipals");
  }
  absl::StatusOr<v1::CreateLinkTicketResponse> CreateLinkTicket(
      const v1::CreateLinkTicketRequest&) override {
    return Answer<v1::CreateLinkTicketResponse>("CreateLinkTicket");
  }
  absl::StatusOr<v1::RedeemLinkTicketResponse> RedeemLinkTicket(
      const v1::RedeemLinkTicketRequest&) override {
    return Answer<v1::RedeemLinkTicketResponse>("RedeemLinkTicket");
  }
  absl::StatusOr<v1::UnlinkAccountResponse> UnlinkAccount(
      const v1::UnlinkAccountRequest&) override {
    return Answer<v1::UnlinkAccountResponse>("UnlinkAccount");
  }
  absl::StatusOr<v1::GrantConsentResponse> GrantConsent(const v1::GrantConsentRequest&) override {
    return Answer<v1::GrantConsentResponse>("GrantConsent");
  }
  absl::StatusOr<v1::RevokeConsentResponse> RevokeConsent(
      const v1::RevokeConsentRequest&) override {
    return Answer<v1::RevokeConsentResponse>("RevokeConsent");
  }
  absl::StatusOr<v1::CheckConsentResponse> CheckConsent(const v1::CheckConsentRequest&) override {
    return Answer<v1::CheckConsentResponse>("CheckConsent");
  }
  absl::StatusOr<v1::ListConsentsResponse> ListConsents(const v1::ListConsentsRequest&) override {
    return Answer<v1::ListConsentsResponse>("ListConsents");
  }
  std::unique_ptr<ConsentWatchStream> WatchConsents(
      const v1::WatchConsentsRequest& request) override {
    std::lock_guard lock(mu_);
    ++calls_["WatchConsents"];
    watch_requests_.push_back(request);
    StreamScript script{.sequences = {}, .end = absl::UnavailableError("hub unreachable")};
    if (!streams_.empty()) {
      script = std::move(streams_.front());
      streams_.pop_front();
    }
    return std::make_unique<ScriptedStream>(std::move(script));
  }
  absl::StatusOr<v1::ListChainEntriesResponse> ListChainEntries(
      const v1::ListChainEntriesRequest&) override {
    return Answer<v1::ListChainEntriesResponse>("ListChainEntries");
  }
  absl::StatusOr<v1::GetChainHeadResponse> GetChainHead(const v1::GetChainHeadRequest&) override {
    return Answer<v1::GetChainHeadResponse>("GetChainHead");
  }
  absl::StatusOr<std::vector<v1::ReportPersonResponse>> ReportPerson(const v1::ReportPersonRequest&) override {
    return Answer<std::vector<v1::ReportPersonResponse>>("ReportPerson");
  }
  absl::StatusOr<std::vector<v1::ReportPlatformResponse>> ReportPlatform(const v1::ReportPlatformRequest&) override {
    return Answer<std::vector<v1::ReportPlatformResponse>>("ReportPlatform");
  }
  absl::StatusOr<v1::VerifyChainResponse> VerifyChain(const v1::VerifyChainRequest&) override {
    return Answer<v1::VerifyChainResponse>("VerifyChain");
  }
  absl::StatusOr<v1::GetSignedTreeHeadResponse> GetSignedTreeHead(const v1::GetSignedTreeHeadRequest&) override {
    return Answer<v1::GetSignedTreeHeadResponse>("GetSignedTreeHead");
  }
  absl::StatusOr<v1::SignTreeHeadResponse> SignTreeHead(const v1::SignTreeHeadRequest&) override {
    return Answer<v1::SignTreeHeadResponse>("SignTreeHead");
  }
  absl::StatusOr<v1::ListSignedTreeHeadsResponse> ListSignedTreeHeads(const v1::ListSignedTreeHeadsRequest&) override {
    return Answer<v1::ListSignedTreeHeadsResponse>("ListSignedTreeHeads");
  }
  absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(const v1::GetInclusionProofRequest&) override {
    return Answer<v1::GetInclusionProofResponse>("GetInclusionProof");
  }
  absl::StatusOr<v1::GetConsistencyProofResponse> GetConsistencyProof(const v1::GetConsistencyProofRequest&) override {
    return Answer<v1::GetConsistencyProofResponse>("GetConsistencyProof");
  }
  std::unique_ptr<PublishStream> Publish() override {
    std::lock_guard lock(mu_);
    ++calls_["Publish"];
    std::shared_ptr<FakePublishCall> call;
    if (!queued_publish_.empty()) {
      call = std::move(queued_publish_.front());
      queued_publish_.pop_front();
    } else {
      call = std::make_shared<FakePublishCall>();
    }
    opened_publish_.push_back(call);
    opened_cv_.notify_all();
    return FakePublishCall::MakeStream(std::move(call));
  }
  std::unique_ptr<SubscribeStream> Subscribe(const v1::SubscribeRequest& request) override {
    std::lock_guard lock(mu_);
    ++calls_["Subscribe"];
    std::shared_ptr<FakeSubscribeCall> call;
    if (!queued_subscribe_.empty()) {
      call = std::move(queued_subscribe_.front());
      queued_subscribe_.pop_front();
    } else {
      call = std::make_shared<FakeSubscribeCall>();
    }
    opened_subscribe_.push_back(call);
    subscribe_requests_.push_back(request);
    opened_cv_.notify_all();
    return FakeSubscribeCall::MakeStream(std::move(call));
  }
  absl::StatusOr<v1::AcknowledgeErasureResponse> AcknowledgeErasure(
      const v1::AcknowledgeErasureRequest&) override {
    return Answer<v1::AcknowledgeErasureResponse>("AcknowledgeErasure");
  }
  absl::StatusOr<v1::GetStreamInfoResponse> GetStreamInfo(
      const v1::GetStreamInfoRequest&) override {
    return Answer<v1::GetStreamInfoResponse>("GetStreamInfo");
  }
  absl::StatusOr<v1::SetSharingPolicyResponse> SetSharingPolicy(
      const v1::SetSharingPolicyRequest&) override {
    return Answer<v1::SetSharingPolicyResponse>("SetSharingPolicy");
  }
  absl::StatusOr<v1::GetSharingPolicyResponse> GetSharingPolicy(
      const v1::GetSharingPolicyRequest&) override {
    return Answer<v1::GetSharingPolicyResponse>("GetSharingPolicy");
  }
  absl::StatusOr<v1::ListCatalogueResponse> ListCatalogue(
      const v1::ListCatalogueRequest& request) override {
    absl::Status s = Attempt("ListCatalogue");
    if (!s.ok()) return s;
    std::lock_guard lock(mu_);
    catalogue_requests_.push_back(request);
    auto page = catalogue_pages_.find(request.page().page_token());
    if (page == catalogue_pages_.end()) return v1::ListCatalogueResponse();
    return page->second;
  }

  // ListCatalogue answers a request with page token t with catalogue_pages[t].
  void SetCataloguePage(const std::string& token, v1::ListCatalogueResponse page) {
    std::lock_guard lock(mu_);
    catalogue_pages_[token] = std::move(page);
  }
  std::vector<v1::ListCatalogueRequest> catalogue_requests() const {
    std::lock_guard lock(mu_);
    return catalogue_requests_;
  }

 private:
  absl::Status Attempt(const char* method) {
    if (on_call) on_call();
    std::lock_guard lock(mu_);
    ++calls_[method];
    if (failures_left_ == 0) return absl::OkStatus();
    if (failures_left_ > 0) --failures_left_;  // negative: fail forever
    return failure_;
  }
  template <typename Response>
  absl::StatusOr<Response> Answer(const char* method) {
    absl::Status s = Attempt(method);
    if (!s.ok()) return s;
    return Response();
  }

  mutable std::mutex mu_;
  int failures_left_ = 0;
  absl::Status failure_;
  std::map<std::string, int> calls_;
  std::deque<StreamScript> streams_;
  std::vector<v1::WatchConsentsRequest> watch_requests_;
  std::condition_variable opened_cv_;
  std::deque<std::shared_ptr<FakePublishCall>> queued_publish_;
  std::vector<std::shared_ptr<FakePublishCall>> opened_publish_;
  std::deque<std::shared_ptr<FakeSubscribeCall>> queued_subscribe_;
  std::vector<std::shared_ptr<FakeSubscribeCall>> opened_subscribe_;
  std::vector<v1::SubscribeRequest> subscribe_requests_;
  std::map<std::string, v1::ListCatalogueResponse> catalogue_pages_;
  std::vector<v1::ListCatalogueRequest> catalogue_requests_;
};

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_SDK_FAKE_CONNECTION_H_
