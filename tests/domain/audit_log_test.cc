// AuditLog: entries for allowed and refused operations, written in the same batch as the
// change they describe.
#include "audit/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "domain_fixture.h"

namespace fedhub::audit {
namespace {

using fedhub::testing::DomainTest;
using storage::Cf;
using storage::Txn;

const Caller kCaller{"plat-a", fedhub::v1::ROLE_PLATFORM, ""};

using AuditLogTest = DomainTest;

TEST_F(AuditLogTest, BaseRecordNamesTheCaller) {
  fedhub::v1::AuditRecord r = BaseRecord(kCaller, "consent.grant");
  EXPECT_EQ(r.actor_id(), "plat-a");
  EXPECT_EQ(r.actor_role(), fedhub::v1::ROLE_PLATFORM);
  EXPECT_EQ(r.action(), "consent.grant");
  EXPECT_EQ(r.outcome(), fedhub::v1::AUDIT_OUTCOME_UNSPECIFIED);
}

TEST_F(AuditLogTest, AppendStampsTheTransactionTime) {
  int64_t now = 0;
  ASSERT_TRUE(store_->Commit([&](Txn& txn) -> absl::Status {
                      now = txn.now_micros();
                      fedhub::v1::AuditRecord r = BaseRecord(kCaller, "test.append");
                      r.mutable_time()->set_seconds(1);  // replaced by the hub's clock
                      return audit_->Append(txn, r).status();
                    }).ok());
  fedhub::v1::AuditRecord stored = LastAudit();
  EXPECT_EQ(stored.time().seconds(), now / 1000000);
  EXPECT_EQ(stored.time().nanos(), static_cast<int32_t>(now % 1000000) * 1000);
  EXPECT_EQ(stored.action(), "test.append");
}

TEST_F(AuditLogTest, RecordRefusalWritesADeniedEntry) {
  ASSERT_TRUE(audit_->RecordRefusal(kCaller, "auth.refused",
                                    absl::PermissionDeniedError("platforms cannot read the audit log"),
                                    "plat-b")
                  .ok());
  fedhub::v1::AuditRecord r = LastAudit();
  EXPECT_EQ(r.actor_id(), "plat-a");
  EXPECT_EQ(r.actor_role(), fedhub::v1::ROLE_PLATFORM);
  EXPECT_EQ(r.action(), "auth.refused");
  EXPECT_EQ(r.outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(r.status_code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(r.detail(), "platforms cannot read the audit log");
  EXPECT_EQ(r.counterparty_id(), "plat-b");
  EXPECT_EQ(AuditSize(), 1u);
}

TEST_F(AuditLogTest, AllowedChangeAndItsEntryShareOneBatch) {
  storage::StoreStats before = store_->stats();
  absl::Status s = audit_->CommitAudited(kCaller, "test.change",
                                         [](Txn& txn, fedhub::v1::AuditRecord& record) {
                                           txn.Put(Cf::kConsents, "c-x", "value");
                                           record.set_subject("pseudonym");
                                           record.set_detail("changed c-x");
                                           return absl::OkStatus();
                                         });
  ASSERT_TRUE(s.ok()) << s;
  storage::StoreStats after = store_->stats();
  EXPECT_EQ(after.groups - before.groups, 1u);
  EXPECT_EQ(**store_->Get(Cf::kConsents, "c-x"), "value");
  fedhub::v1::AuditRecord r = LastAudit();
  EXPECT_EQ(r.action(), "test.change");
  EXPECT_EQ(r.outcome(), fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(r.status_code(), 0);
  EXPECT_EQ(r.subject(), "pseudonym");
  EXPECT_EQ(r.detail(), "changed c-x");
}

TEST_F(AuditLogTest, RefusedChangeIsDroppedAndItsRefusalRecorded) {
  storage::StoreStats before = store_->stats();
  absl::Status s = audit_->CommitAudited(kCaller, "test.change",
                                         [](Txn& txn, fedhub::v1::AuditRecord& record) {
                                           txn.Put(Cf::kConsents, "c-y", "value");
                                           record.set_subject("pseudonym");
                                           return absl::NotFoundError("no such thing");
                                         });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no such thing");
  EXPECT_EQ(store_->stats().groups - before.groups, 1u);
  EXPECT_FALSE(store_->Get(Cf::kConsents, "c-y")->has_value());
  fedhub::v1::AuditRecord r = LastAudit();
  EXPECT_EQ(r.outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(r.status_code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(r.detail(), "no such thing");
  EXPECT_EQ(r.subject(), "pseudonym") << "what the change learnt before refusing is kept";
  EXPECT_TRUE(audit_->chain().Verify()->ok);
}

TEST_F(AuditLogTest, DurableHookSeesEveryEntry) {
  std::vector<fedhub::v1::AuditOutcome> seen;
  audit_->set_on_durable([&](fedhub::v1::AuditOutcome outcome) { seen.push_back(outcome); });
  ASSERT_TRUE(audit_->CommitAudited(kCaller, "a", [](Txn&, fedhub::v1::AuditRecord&) {
                      return absl::OkStatus();
                    }).ok());
  ASSERT_FALSE(audit_->CommitAudited(kCaller, "b", [](Txn&, fedhub::v1::AuditRecord&) {
                       return absl::InvalidArgumentError("bad");
                     }).ok());
  ASSERT_TRUE(audit_->RecordRefusal(kCaller, "c", absl::UnauthenticatedError("who?")).ok());
  EXPECT_EQ(seen, (std::vector<fedhub::v1::AuditOutcome>{fedhub::v1::AUDIT_OUTCOME_ALLOWED,
                                                          fedhub::v1::AUDIT_OUTCOME_DENIED,
                                                          fedhub::v1::AUDIT_OUTCOME_DENIED}));
  EXPECT_EQ(AuditSize(), 3u);
}

TEST_F(AuditLogTest, AnyRequestIsAuditedAsAnEntryThatDecodes) {
  // A refused request may list hundreds of categories, repeats and undefined values; its
  // entry keeps each defined value once and bounds free text, so the chain still verifies.
  absl::Status s = audit_->CommitAudited(
      kCaller, "consent.grant", [](Txn&, fedhub::v1::AuditRecord& record) {
        for (int i = 0; i < 300; ++i) {
          record.add_categories(static_cast<fedhub::v1::DataCategory>(i % 7 == 0 ? 300 : i % 4));
          record.add_purposes(fedhub::v1::PURPOSE_SYNC);
        }
        return absl::InvalidArgumentError(std::string(5000, 'x'));
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  fedhub::v1::AuditRecord r = LastAudit();
  EXPECT_EQ(r.outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_THAT(r.categories(), ::testing::ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(r.purposes(), ::testing::ElementsAre(fedhub::v1::PURPOSE_SYNC));
  EXPECT_LE(r.detail().size(), 515u);
  auto verified = audit_->chain().Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

}  // namespace
}  // namespace fedhub::audit
