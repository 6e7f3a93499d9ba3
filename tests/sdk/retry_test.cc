// The retrying Connection: which calls and which codes are retried, how often, and that
// errors reach the caller with the hub's code and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <grpcpp/support/status.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/cord.h"
#include "client/grpc_status.h"
#include "client/retry_connection.h"
#include "core/strings.h"
#include "fake_connection.h"
#include "fedhub/client.h"
#include "fedhub/connection.h"

namespace fedhub::client {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;
using testing::FakeConnection;

// One Connection method, called with a default request; returns the call's status.
struct Method {
  std::string name;
  std::function<absl::Status(Connection&)> call;
};

template <typename Request, typename Response>
Method M(std::string name, absl::StatusOr<Response> (Connection::*fn)(const Request&)) {
  return Method{name, [fn](Connection& c) { return (c.*fn)(Request()).status(); }};
}

std::vector<Method> IdempotentMethods() {
  return {
      M("GetHubInfo", &Connection::GetHubInfo),
      M("GetPrincipal", &Connection::GetPrincipal),
      M("ListPrincipals", &Connection::ListPrincipals),
      M("CheckConsent", &Connection::CheckConsent),
      M("ListConsents", &Connection::ListConsents),
      M("ListChainEntries", &Connection::ListChainEntries),
      M("GetChainHead", &Connection::GetChainHead),
      M("VerifyChain", &Connection::VerifyChain),
      M("ReportPerson", &Connection::ReportPerson),
      M("ReportPlatform", &Connection::ReportPlatform),
      M("GetSignedTreeHead", &Connection::GetSignedTreeHead),
      M("SignTreeHead", &Connection::SignTreeHead),
      M("ListSignedTreeHeads", &Connection::ListSignedTreeHeads),
      M("GetInclusionProof", &Connection::GetInclusionProof),
      M("GetConsistencyProof", &Connection::GetConsistencyProof),
      M("AcknowledgeErasure", &Connection::AcknowledgeErasure),
      M("GetStreamInfo", &Connection::GetStreamInfo),
      M("SetSharingPolicy", &Connection::SetSharingPolicy),
      M("GetSharingPolicy", &Connection::GetSharingPolicy),
      M("ListCatalogue", &Connection::ListCatalogue),
  };
}

std::vector<Method> MutatingMethods() {
  return {
      M("RegisterPrincipal", &Connection::RegisterPrincipal),
      M("SuspendPrincipal", &Connection::SuspendPrincipal),
      M("ReinstatePrincipal", &Connection::ReinstatePrincipal),
      M("CreateLinkTicket", &Connection::CreateLinkTicket),
      M("RedeemLinkTicket", &Connection::RedeemLinkTicket),
      M("UnlinkAccount", &Connection::UnlinkAccount),
      M("GrantConsent", &Connection::GrantConsent),
      M("RevokeConsent", &Connection::RevokeConsent),
  };
}

constexpr absl::StatusCode kRetryableCodes[] = {absl::StatusCode::kUnavailable,
                                                absl::StatusCode::kAborted,
                                                absl::StatusCode::kDeadlineExceeded};

constexpr absl::StatusCode kFinalCodes[] = {
    absl::StatusCode::kResourceExhausted, absl::StatusCode::kCancelled,
    absl::StatusCode::kUnknown,           absl::StatusCode::kInvalidArgument,
    absl::StatusCode::kNotFound,          absl::StatusCode::kAlreadyExists,
    absl::StatusCode::kPermissionDenied,  absl::StatusCode::kFailedPrecondition,
    absl::StatusCode::kOutOfRange,        absl::StatusCode::kUnimplemented,
    absl::StatusCode::kInternal,          absl::StatusCode::kDataLoss,
    absl::StatusCode::kUnauthenticated};

RetryPolicy FastPolicy(int max_attempts = 4) {
  RetryPolicy p;
  p.max_attempts = max_attempts;
  p.initial_backoff = milliseconds(10);
  p.multiplier = 2.0;
  p.max_backoff = milliseconds(1000);
  p.jitter = 0.0;
  p.total_timeout = milliseconds(60000);
  return p;
}

class RetryTest : public ::testing::Test {
 protected:
  std::shared_ptr<Connection> Retrying(RetryPolicy policy) {
    return MakeRetryingConnection(
        fake_, policy,
        RetryEnvironment{.now = [this] { return clock_.Now(); },
                         .sleep = [this](milliseconds d) { clock_.Sleep(d); },
                         .uniform01 = [] { return 0.0; }});
  }

  FakeClock clock_;
  std::shared_ptr<FakeConnection> fake_ = std::make_shared<FakeConnection>();
};

// Suites are named sdk* so that `ctest -R sdk` selects them.
using sdkRetry = RetryTest;

TEST_F(sdkRetry, IdempotentCallsAreRetriedOnRetryableCodes) {
  for (const Method& m : IdempotentMethods()) {
    for (absl::StatusCode code : kRetryableCodes) {
      fake_ = std::make_shared<FakeConnection>();
      std::shared_ptr<Connection> conn = Retrying(FastPolicy());
      fake_->FailNext(2, code);
      EXPECT_TRUE(m.call(*conn).ok()) << m.name << " " << absl::StatusCodeToString(code);
      EXPECT_EQ(fake_->calls(m.name), 3) << m.name << " " << absl::StatusCodeToString(code);
    }
  }
}

TEST_F(sdkRetry, MutatingCallsAreNeverRetried) {
  for (const Method& m : MutatingMethods()) {
    for (absl::StatusCode code : kRetryableCodes) {
      fake_ = std::make_shared<FakeConnection>();
      std::shared_ptr<Connection> conn = Retrying(FastPolicy());
      fake_->FailNext(1, code, "connection reset");
      const absl::Status s = m.call(*conn);
      EXPECT_EQ(s.code(), code) << m.name;
      EXPECT_EQ(s.message(), "connection reset") << m.name;
      EXPECT_EQ(fake_->calls(m.name), 1) << m.name << " " << absl::StatusCodeToString(code);
    }
  }
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(sdkRetry, MutatingCallsSucceedOnTheirOneAttempt) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy());
  for (const Method& m : MutatingMethods()) {
    EXPECT_TRUE(m.call(*conn).ok()) << m.name;
    EXPECT_EQ(fake_->calls(m.name), 1) << m.name;
  }
}

TEST_F(sdkRetry, OtherCodesAreReturnedAtOnceEvenForIdempotentCalls) {
  for (const Method& m : IdempotentMethods()) {
    for (absl::StatusCode code : kFinalCodes) {
      fake_ = std::make_shared<FakeConnection>();
      std::shared_ptr<Connection> conn = Retrying(FastPolicy());
      fake_->FailNext(1, code, "the hub's own words");
      const absl::Status s = m.call(*conn);
      EXPECT_EQ(s.code(), code) << m.name;
      EXPECT_EQ(s.message(), "the hub's own words");
      EXPECT_EQ(fake_->calls(m.name), 1) << m.name << " " << absl::StatusCodeToString(code);
    }
  }
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(sdkRetry, ResourceExhaustedIsNeverRetried) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy(10));
  fake_->FailNext(5, absl::StatusCode::kResourceExhausted, "rate limit: 100/s");
  auto r = conn->CheckConsent({});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "rate limit: 100/s");
  EXPECT_EQ(fake_->calls("CheckConsent"), 1);
}

TEST_F(sdkRetry, StopsAtMaxAttemptsWithTheLastError) {
  for (int max_attempts : {1, 2, 4, 7}) {
    fake_ = std::make_shared<FakeConnection>();
    std::shared_ptr<Connection> conn = Retrying(FastPolicy(max_attempts));
    fake_->FailNext(-1, absl::StatusCode::kUnavailable, "failed to connect to all addresses");
    auto r = conn->ListConsents({});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(r.status().message(), "failed to connect to all addresses");
    EXPECT_EQ(fake_->calls("ListConsents"), max_attempts);
  }
}

TEST_F(sdkRetry, SucceedsOnTheLastAllowedAttempt) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy(4));
  fake_->FailNext(3, absl::StatusCode::kAborted);
  EXPECT_TRUE(conn->GetChainHead({}).ok());
  EXPECT_EQ(fake_->calls("GetChainHead"), 4);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
}

TEST_F(sdkRetry, MaxAttemptsBelowOneMeansOneAttempt) {
  for (int max_attempts : {0, -3}) {
    fake_ = std::make_shared<FakeConnection>();
    std::shared_ptr<Connection> conn = Retrying(FastPolicy(max_attempts));
    fake_->FailNext(-1, absl::StatusCode::kUnavailable);
    EXPECT_FALSE(conn->GetHubInfo({}).ok());
    EXPECT_EQ(fake_->calls("GetHubInfo"), 1);
  }
}

TEST_F(sdkRetry, SuccessNeedsNoRetry) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy());
  fake_->hub_info.set_version("1.2.3");
  auto r = conn->GetHubInfo({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version(), "1.2.3");
  EXPECT_EQ(fake_->calls("GetHubInfo"), 1);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(sdkRetry, WatchConsentsIsPassedThroughOnce) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy());
  v1::WatchConsentsRequest request;
  request.set_after_sequence(42);
  std::unique_ptr<ConsentWatchStream> stream = conn->WatchConsents(request);
  ASSERT_NE(stream, nullptr);
  v1::WatchConsentsResponse change;
  EXPECT_FALSE(stream->Read(&change));
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->calls("WatchConsents"), 1);
  ASSERT_EQ(fake_->watch_requests().size(), 1u);
  EXPECT_EQ(fake_->watch_requests()[0].after_sequence(), 42u);
}

TEST_F(sdkRetry, PublishAndSubscribeArePassedThroughOnce) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy());
  std::shared_ptr<testing::FakePublishCall> publish = fake_->AddPublishCall();
  publish->End(absl::UnavailableError("hub restarting"));
  std::unique_ptr<PublishStream> p = conn->Publish();
  v1::PublishResponse ack;
  EXPECT_FALSE(p->Read(&ack));
  EXPECT_EQ(p->Finish().code(), absl::StatusCode::kUnavailable);

  std::shared_ptr<testing::FakeSubscribeCall> subscribe = fake_->AddSubscribeCall();
  subscribe->End(absl::UnavailableError("hub restarting"));
  v1::SubscribeRequest request;
  request.set_after_cursor(42);
  std::unique_ptr<SubscribeStream> s = conn->Subscribe(request);
  v1::SubscribeResponse message;
  EXPECT_FALSE(s->Read(&message));
  EXPECT_EQ(s->Finish().code(), absl::StatusCode::kUnavailable);

  EXPECT_EQ(fake_->calls("Publish"), 1);
  EXPECT_EQ(fake_->calls("Subscribe"), 1);
  v1::SubscribeRequest sent;
  ASSERT_NE(fake_->OpenedSubscribeCall(0, &sent), nullptr);
  EXPECT_EQ(sent.after_cursor(), 42u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(sdkRetry, ConcurrentCallsEachGetTheirOwnAttempts) {
  std::shared_ptr<Connection> conn = Retrying(FastPolicy(3));
  fake_->FailNext(-1, absl::StatusCode::kUnavailable);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&conn] {
      for (int j = 0; j < 10; ++j) EXPECT_FALSE(conn->GetPrincipal({}).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(fake_->calls("GetPrincipal"), 4 * 10 * 3);
}

TEST(sdkIsRetryable, OnlyTransientCodesOfIdempotentCalls) {
  for (absl::StatusCode code : kRetryableCodes) {
    EXPECT_TRUE(IsRetryable(absl::Status(code, "x"), Idempotency::kIdempotent));
    EXPECT_FALSE(IsRetryable(absl::Status(code, "x"), Idempotency::kNonIdempotent));
  }
  for (absl::StatusCode code : kFinalCodes) {
    EXPECT_FALSE(IsRetryable(absl::Status(code, "x"), Idempotency::kIdempotent));
  }
}

// --- Through fedhub::Client ----------------------------------------------------------------

TEST_F(sdkRetry, ClientRetriesReadsButNotGrants) {
  Client client(Retrying(FastPolicy()));
  fake_->FailNext(1, absl::StatusCode::kUnavailable);
  EXPECT_TRUE(client.GetHubInfo().ok());
  EXPECT_EQ(fake_->calls("GetHubInfo"), 2);

  fake_->FailNext(1, absl::StatusCode::kUnavailable, "hub restarting");
  auto granted = client.GrantConsent(ConsentGrant{.local_user_id = "u-17",
                                                  .categories = {v1::DATA_CATEGORY_LEARNING},
                                                  .purposes = {v1::PURPOSE_SYNC},
                                                  .evidence_method = "web-form"});
  EXPECT_EQ(granted.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(granted.status().message(), "hub restarting");
  EXPECT_EQ(fake_->calls("GrantConsent"), 1);
}

TEST_F(sdkRetry, ClientPagingStopsOnAnError) {
  Client client(Retrying(FastPolicy(2)));
  fake_->FailNext(-1, absl::StatusCode::kPermissionDenied, "role auditor required");
  auto all = client.ListAllPrincipals();
  EXPECT_EQ(all.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(all.status().message(), "role auditor required");
  EXPECT_EQ(fake_->calls("ListPrincipals"), 1);
}

TEST_F(sdkRetry, ClientListsEveryCataloguePage) {
  Client client(Retrying(FastPolicy()));
  v1::ListCatalogueResponse first;
  first.add_items()->mutable_item()->set_item_id("a");
  first.set_next_page_token("p2");
  v1::ListCatalogueResponse second;
  second.add_items()->mutable_item()->set_item_id("b");
  fake_->SetCataloguePage("", first);
  fake_->SetCataloguePage("p2", second);
  v1::CatalogueFilter filter;
  filter.add_languages("en");
  auto all = client.ListAllCatalogue(filter, /*own=*/true);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].item().item_id(), "a");
  EXPECT_EQ((*all)[1].item().item_id(), "b");
  const std::vector<v1::ListCatalogueRequest> requests = fake_->catalogue_requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const v1::ListCatalogueRequest& r : requests) {
    EXPECT_TRUE(r.own());
    ASSERT_EQ(r.filter().languages_size(), 1);
    EXPECT_EQ(r.filter().languages(0), "en");
  }
  EXPECT_EQ(requests[1].page().page_token(), "p2");
}

// --- gRPC status -> absl::Status ------------------------------------------------------------

TEST(sdkGrpcStatus, CodeAndMessageAreKeptVerbatim) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  for (int code = 1; code <= 16; ++code) {
    const std::string message = Cat("message for code ", code, ": ünïcode & \"quotes\"");
    const absl::Status s =
        FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(code), message));
    EXPECT_EQ(static_cast<int>(s.code()), code);
    EXPECT_EQ(ToStd(s.message()), message);
  }
}

TEST(sdkGrpcStatus, ErrorDetailsBecomeAPayload) {
  const absl::Status s = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "consent expired", "\x08\x09raw"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  auto payload = s.GetPayload(ToAbsl(kRpcStatusPayloadUrl));
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "\x08\x09raw");
  EXPECT_FALSE(FromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, "x"))
                   .GetPayload(ToAbsl(kRpcStatusPayloadUrl))
                   .has_value());
}

TEST(sdkGrpcStatus, NonCanonicalCodeBecomesUnknown) {
  const absl::Status s = FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(20), "odd"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(ToStd(s.message()), ::testing::HasSubstr("20"));
  EXPECT_THAT(ToStd(s.message()), ::testing::HasSubstr("odd"));
}

}  // namespace
}  // namespace fedhub::client
