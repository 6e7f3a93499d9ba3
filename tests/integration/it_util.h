// Helpers shared by the integration tests: a fixture with a started TestHub, status
// matchers, and readers for the ends of the audit log and the ledger.
#ifndef FEDHUB_TESTS_INTEGRATION_IT_UTIL_H_
#define FEDHUB_TESTS_INTEGRATION_IT_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/strings.h"
#include "fedhub/client.h"
#include "fedhub/verify.h"
#include "test_hub.h"

namespace fedhub::testing {

inline absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// Matches an absl::Status (or StatusOr) with `code` and a message matching `message`
// (a string matcher, e.g. HasSubstr("...")).
MATCHER_P2(StatusIs, code, message,
           std::string(negation ? "not " : "") + "a status " + absl::StatusCodeToString(code) +
               " whose message " + ::testing::DescribeMatcher<const std::string&>(message)) {
  absl::Status s = ::fedhub::testing::StatusOf(arg);
  *result_listener << "status is " << s;
  if (s.code() != code) return false;
  return ::testing::Matches(message)(std::string(s.message()));
}

#define FEDHUB_ASSERT_OK(expr)                                       \
  do {                                                               \
    const absl::Status fedhub_s_ = ::fedhub::testing::StatusOf(expr); \
    ASSERT_TRUE(fedhub_s_.ok()) << fedhub_s_;                        \
  } while (0)

// A fixture with a hub started per test and clients for the default principals.
class HubTest : public ::testing::Test {
 protected:
  virtual TestHubOptions Options() { return {}; }

  void SetUp() override {
    auto hub = TestHub::Start(Options());
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = std::move(*hub);
    course_.emplace(hub_->ClientFor("course"));
    store_.emplace(hub_->ClientFor("store"));
    books_.emplace(hub_->ClientFor("books"));
    admin_.emplace(hub_->ClientFor("operator"));
    auditor_.emplace(hub_->ClientFor("auditor"));
  }

  Client& course() { return *course_; }
  Client& store() { return *store_; }
  Client& books() { return *books_; }
  Client& admin() { return *admin_; }
  Client& auditor() { return *auditor_; }

  // A grant from the calling platform's user `user` to `target`: LEARNING + PROFILE for SYNC.
  static ConsentGrant Grant(const std::string& user, const std::string& target) {
    ConsentGrant g;
    g.local_user_id = user;
    g.target_platform_id = target;
    g.categories = {v1::DATA_CATEGORY_LEARNING, v1::DATA_CATEGORY_PROFILE};
    g.purposes = {v1::PURPOSE_SYNC};
    g.evidence_method = "web-form";
    g.evidence_reference = "form-4711";
    return g;
  }

  v1::ChainHead Head(v1::Chain chain) {
    auto head = auditor().GetChainHead(chain);
    EXPECT_TRUE(head.ok()) << head.status();
    return head.ok() ? *head : v1::ChainHead();
  }

  // The last entry of a chain (read by the auditor).
  std::optional<v1::ChainEntry> Last(v1::Chain chain) {
    v1::ChainHead head = Head(chain);
    if (head.size() == 0) return std::nullopt;
    auto page = auditor().ListChainEntries(chain, head.size(), 1);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->entries_size() != 1) return std::nullopt;
    return page->entries(0);
  }

  // Every entry of a chain, verified offline against the head the hub reports.
  std::vector<v1::ChainEntry> AllVerified(v1::Chain chain) {
    std::vector<v1::ChainEntry> out;
    ChainVerifier verifier(chain);
    uint64_t next = 1;
    v1::ChainHead head;
    while (next != 0) {
      auto page = auditor().ListChainEntries(chain, next, 1000);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return out;
      for (const auto& e : page->entries()) {
        absl::Status s = verifier.Add(e);
        EXPECT_TRUE(s.ok()) << s;
        out.push_back(e);
      }
      next = page->next_sequence();
      head = page->head();
    }
    absl::Status s = verifier.CheckHead(head);
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  // Asserts that the audit log's last entry, and the only one after `audit_before`, records
  // a refusal of `action` by `actor` with `code`.
  // `never` lists texts (local user ids) the entry must not contain.
  void ExpectRefusalAudited(const std::string& actor, const std::string& action,
                            absl::StatusCode code, uint64_t audit_before,
                            const std::vector<std::string>& never = {}) {
    auto last = Last(v1::CHAIN_AUDIT);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->sequence(), audit_before + 1) << "exactly one audit entry for the refusal";
    const v1::AuditRecord& r = last->audit();
    EXPECT_EQ(r.actor_id(), actor);
    EXPECT_EQ(r.action(), action);
    EXPECT_EQ(r.outcome(), v1::AUDIT_OUTCOME_DENIED);
    EXPECT_EQ(r.status_code(), static_cast<int>(code));
    EXPECT_FALSE(r.detail().empty());
    for (const std::string& text : never) {
      EXPECT_EQ(last->encoded().find(text), std::string::npos) << "audit entry holds \"" << text << "\"";
    }
  }

  std::string HubKey() {
    auto info = course().GetHubInfo();
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? info->signing_public_key() : "";
  }

  std::unique_ptr<TestHub> hub_;
  std::optional<Client> course_, store_, books_, admin_, auditor_;
};

// Reads a watch stream on its own thread so a test can wait for changes with a bound.
class WatchCollector {
 public:
  explicit WatchCollector(std::unique_ptr<ConsentWatchStream> stream)
      : stream_(std::move(stream)), thread_([this] { Run(); }) {}
  ~WatchCollector() {
    stream_->Cancel();
    thread_.join();
  }

  // Waits until `n` changes arrived (or the stream ended); false on timeout.
  bool WaitFor(size_t n, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return changes_.size() >= n || ended_; }) &&
           changes_.size() >= n;
  }
  // Waits for the stream to end and returns its status.
  std::optional<absl::Status> WaitEnd(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return ended_; })) return std::nullopt;
    return status_;
  }
  std::vector<v1::WatchConsentsResponse> changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  void Run() {
    v1::WatchConsentsResponse r;
    while (stream_->Read(&r)) {
      std::lock_guard lock(mu_);
      changes_.push_back(r);
      cv_.notify_all();
    }
    absl::Status s = stream_->Finish();
    std::lock_guard lock(mu_);
    status_ = s;
    ended_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<ConsentWatchStream> stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::WatchConsentsResponse> changes_;
  bool ended_ = false;
  absl::Status status_;
  std::thread thread_;
};

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_INTEGRATION_IT_UTIL_H_
