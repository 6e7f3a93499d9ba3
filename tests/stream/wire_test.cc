// The hand-written wire format of deliveries must be what protobuf itself would produce:
// the per-category split of a profile change, narrowed, and a whole SubscribeResponse, are
// parsed back with the generated classes and compared with the protobuf-built equivalent.
#include "stream/wire.h"

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/categories.h"
#include "core/crypto.h"
#include "stream/delivery.h"
#include "stream/event_log.h"
#include "stream/streams.h"
#include "stream/validate.h"

namespace fedhub::stream {
namespace {

using fedhub::storage::v1::StoredEvent;
using fedhub::v1::DataCategory;
using google::protobuf::util::MessageDifferencer;

fedhub::v1::ProfileFields EveryCategory() {
  fedhub::v1::ProfileFields f;
  f.set_display_name("Ada");
  f.set_locale("en-GB");
  f.set_country("GB");
  f.set_age_band("25-34");
  f.set_email("ada@example.org");
  f.set_phone("+44 20 7946 0000");
  auto* e = f.add_enrolments();
  e->set_item_id("course-1");
  e->set_progress_permille(400);
  f.add_enrolments()->set_item_id("course-2");
  auto* p = f.add_purchases();
  p->set_item_id("item-9");
  p->set_price_minor(1999);
  p->set_currency("EUR");
  f.add_interest_tags("c++");
  f.add_interest_tags("databases");
  f.add_wish_list("item-3");
  return f;
}

std::set<DataCategory> Subset(uint32_t bits) {
  std::set<DataCategory> out;
  for (int c = 1; c < kCategorySlots; ++c) {
    if (bits & (1u << c)) out.insert(static_cast<DataCategory>(c));
  }
  return out;
}

TEST(Wire, EveryNarrowingOfTheSplitFieldsIsWhatNarrowProduces) {
  const fedhub::v1::ProfileFields fields = EveryCategory();
  CategoryParts parts;
  ASSERT_TRUE(SplitProfileFields(fields.SerializeAsString(), &parts).ok());
  EXPECT_TRUE(parts[0].empty());  // every field declares a category
  for (uint32_t bits = 0; bits < (1u << kCategorySlots); bits += 2) {
    std::string joined = parts[0];
    for (int c = 1; c < kCategorySlots; ++c) {
      if (bits & (1u << c)) joined += parts[c];
    }
    fedhub::v1::ProfileFields parsed;
    ASSERT_TRUE(parsed.ParseFromString(joined)) << "categories " << bits;
    fedhub::v1::ProfileFields expected = fields;
    categories::Narrow(&expected, Subset(bits));
    EXPECT_TRUE(MessageDifferencer::Equals(parsed, expected))
        << "categories " << bits << "\ngot " << parsed.DebugString() << "\nwant " << expected.DebugString();
  }
}

TEST(Wire, UnknownFieldsGoToTheUncategorisedPart) {
  fedhub::v1::ProfileFields fields;
  fields.set_email("a@b.c");
  std::string bytes = fields.SerializeAsString();
  WireWriter(&bytes).BytesField(99, "extension");
  CategoryParts parts;
  ASSERT_TRUE(SplitProfileFields(bytes, &parts).ok());
  EXPECT_FALSE(parts[0].empty());
  EXPECT_FALSE(parts[fedhub::v1::DATA_CATEGORY_CONTACT].empty());
}

TEST(Wire, MalformedBytesAreDataLoss) {
  CategoryParts parts;
  // A length-delimited field whose length runs past the end; a group; a truncated varint.
  for (std::string bad : {std::string("\x0a\x05" "ab", 4), std::string("\x0b", 1), std::string("\x08\xff", 2)}) {
    auto s = SplitProfileFields(bad, &parts);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(SubField(bad, 1).status().code(), absl::StatusCode::kDataLoss);
  }
  auto found = SubField(std::string("\x08\x01\x12\x02hi", 6), 2);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, "hi");
  EXPECT_EQ(*SubField(std::string("\x08\x01", 2), 2), "");
}

TEST(Wire, VarintsMatchTheirSize) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, ~0ull}) {
    std::string out;
    WireWriter(&out).Varint(v);
    EXPECT_EQ(out.size(), VarintSize(v)) << v;
  }
}

TEST(Wire, SizerCountsWhatTheWriterWrites) {
  auto emit = [](auto& w) {
    w.VarintField(1, 0);  // not written
    w.VarintField(2, 300);
    w.BytesField(3, "");  // not written
    w.BytesField(4, std::string(200, 'x'));
    w.LengthDelimited(5, "");
    w.Header(6, 1000);
    w.Raw("abc");
    w.Varint(~0ull);
  };
  std::string out;
  WireWriter writer(&out);
  emit(writer);
  WireSizer sizer;
  emit(sizer);
  EXPECT_EQ(sizer.size(), out.size());
}

// The hub stores a published profile change from the bytes validation serialised, without
// the publisher's local id: byte for byte what serialising the event without it gives.
TEST(Wire, StoredProfileEventIsTheSerializedEventWithoutTheUser) {
  StoredEvent head;
  head.set_publisher_platform_id("course");
  head.set_event_id("e-1");
  head.set_published_at_micros(1'700'000'000'123'456);
  head.set_subject(std::string(16, 'S'));
  fedhub::v1::ProfileChange change;
  change.mutable_user()->set_local_user_id("u-1");
  change.add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
  change.add_categories(fedhub::v1::DATA_CATEGORY_LEARNING);
  *change.mutable_fields() = EveryCategory();
  change.set_version(9);
  for (bool with_user : {true, false}) {
    if (!with_user) change.clear_user();
    auto got = StoredProfileEventBytes(head.SerializeAsString(), DeterministicBytes(change));
    ASSERT_TRUE(got.ok()) << got.status();
    StoredEvent want = head;
    *want.mutable_profile() = change;
    want.mutable_profile()->clear_user();
    EXPECT_EQ(*got, DeterministicBytes(want)) << "with_user " << with_user;
  }
  EXPECT_EQ(StoredProfileEventBytes("", "\x0a\x05u").status().code(), absl::StatusCode::kDataLoss);
}

// The content hash an event id is stored with, computed from the validated profile bytes,
// is the hash of the whole event serialised deterministically (as before that shortcut, so
// re-sends of events stored earlier still match).
TEST(Wire, ContentHashIsTheHashOfTheWholeEvent) {
  fedhub::v1::PublishEvent e;
  e.set_event_id("e-42");
  auto* change = e.mutable_profile();
  change->mutable_user()->set_local_user_id("u-1");
  change->add_categories(fedhub::v1::DATA_CATEGORY_INTERESTS);
  change->mutable_fields()->add_interest_tags("c++");
  change->set_version(3);
  std::string bytes;
  ASSERT_TRUE(ValidateEvent(e, {}, &bytes).ok());
  EXPECT_EQ(bytes, DeterministicBytes(*change));
  const std::string whole = crypto::ToString(crypto::Sha256(DeterministicBytes(e)));
  EXPECT_EQ(crypto::HexEncode(ContentHash(e, bytes)), crypto::HexEncode(whole));
  e.mutable_profile()->set_version(4);
  EXPECT_NE(ContentHash(e, DeterministicBytes(e.profile())), whole);
  // A catalogue change is hashed whole.
  fedhub::v1::PublishEvent c;
  c.set_event_id("e-43");
  c.mutable_catalogue()->mutable_item()->set_item_id("course-1");
  EXPECT_EQ(ContentHash(c, ""), crypto::ToString(crypto::Sha256(DeterministicBytes(c))));
}

// A delivered message encoded by hand parses to what the protobuf classes would build.
TEST(Wire, EncodedMessageIsTheSubscribeResponse) {
  const fedhub::v1::ProfileFields fields = EveryCategory();
  StoredEvent ev;
  ev.set_publisher_platform_id("course");
  ev.set_event_id("e-1");
  ev.set_published_at_micros(1'700'000'000'123'456);
  ev.set_subject(std::string(16, 'S'));
  auto* pc = ev.mutable_profile();
  for (int c = 1; c < kCategorySlots; ++c) pc->add_categories(static_cast<DataCategory>(c));
  *pc->mutable_fields() = fields;
  pc->set_version(-3);  // negative versions take ten bytes
  auto le = MakeLogEvent(42, ev, ev.SerializeAsString());
  ASSERT_TRUE(le.ok()) << le.status();
  EXPECT_FALSE((*le)->event.profile().has_fields());

  Built b;
  b.cursor = 57;
  auto wide = std::make_shared<const std::string>("c-wide");
  auto learning = std::make_shared<const std::string>("c-learning");
  b.grants.push_back({(1u << 1) | (1u << 5), wide, 0});
  b.grants.push_back({1u << 3, learning, 0});
  auto& item = b.items.emplace_back();
  item.source = *le;
  auto names = std::make_shared<PersonNames>();
  names->pairwise = "pw-123";
  item.names = names;
  item.first_grant = 0;
  item.grant_count = 2;
  fedhub::v1::DeliveredEvent other;
  other.set_offset(43);
  other.mutable_catalogue()->mutable_item()->set_item_id("course-1");
  b.items.emplace_back().encoded = other.SerializeAsString();
  // The same person, named by the subscriber's own id, under one consent.
  b.grants.push_back({1u << 2, wide, 0});
  auto& linked = b.items.emplace_back();
  linked.source = *le;
  auto local = std::make_shared<PersonNames>();
  local->local_id = "u-77";
  linked.names = local;
  linked.first_grant = 2;
  linked.grant_count = 1;

  fedhub::v1::SubscribeResponse got;
  ASSERT_TRUE(got.ParseFromString(b.Encode()));

  fedhub::v1::SubscribeResponse want;
  want.set_cursor(57);
  auto* d = want.add_events();
  d->set_offset(42);
  d->set_event_id("e-1");
  d->set_publisher_platform_id("course");
  *d->mutable_published_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(1'700'000'000'123'456);
  auto* u = d->mutable_profile();
  u->set_pairwise_pseudonym("pw-123");
  for (auto [cat, id] : {std::pair{1, "c-wide"}, {3, "c-learning"}, {5, "c-wide"}}) {
    u->add_categories(static_cast<DataCategory>(cat));
    u->add_consent_ids(id);
  }
  *u->mutable_fields() = fields;
  categories::Narrow(u->mutable_fields(), Subset((1u << 1) | (1u << 3) | (1u << 5)));
  u->set_version(-3);
  *want.add_events() = other;
  auto* l = want.add_events();
  *l = *d;
  l->mutable_profile()->mutable_user()->set_local_user_id("u-77");
  l->mutable_profile()->clear_categories();
  l->mutable_profile()->clear_consent_ids();
  l->mutable_profile()->add_categories(fedhub::v1::DATA_CATEGORY_CONTACT);
  l->mutable_profile()->add_consent_ids("c-wide");
  *l->mutable_profile()->mutable_fields() = fields;
  categories::Narrow(l->mutable_profile()->mutable_fields(), Subset(1u << 2));
  EXPECT_TRUE(MessageDifferencer::Equals(got, want)) << "got " << got.DebugString() << "\nwant " << want.DebugString();

  Built snapshot;
  snapshot.cursor = 9;
  snapshot.snapshot = snapshot.snapshot_complete = true;
  ASSERT_TRUE(got.ParseFromString(snapshot.Encode()));
  EXPECT_TRUE(got.snapshot());
  EXPECT_TRUE(got.snapshot_complete());
  EXPECT_EQ(got.cursor(), 9u);
  EXPECT_EQ(got.events_size(), 0);
}

// Publication times before 1970 are written as protobuf writes a Timestamp: seconds rounded
// down, nanos from 0 to 999,999,999.
TEST(Wire, EncodedTimesMatchTimestamps) {
  for (int64_t micros : {int64_t{0}, int64_t{-1}, int64_t{-1'500'001}, int64_t{-2'000'000}, int64_t{1'000'000}}) {
    StoredEvent ev;
    ev.set_event_id("e-1");
    ev.set_published_at_micros(micros);
    ev.mutable_profile()->add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
    ev.mutable_profile()->mutable_fields()->set_display_name("Ada");
    auto le = MakeLogEvent(1, ev, ev.SerializeAsString());
    ASSERT_TRUE(le.ok()) << le.status();
    Built b;
    b.grants.push_back({1u << 1, std::make_shared<const std::string>("c-1"), 0});
    auto& item = b.items.emplace_back();
    item.source = *le;
    item.names = std::make_shared<PersonNames>(PersonNames{"", "pw", "a"});
    item.grant_count = 1;
    fedhub::v1::SubscribeResponse got;
    ASSERT_TRUE(got.ParseFromString(b.Encode()));
    ASSERT_EQ(got.events_size(), 1);
    EXPECT_TRUE(MessageDifferencer::Equals(got.events(0).published_at(),
                                           google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros)))
        << micros << ": " << got.events(0).published_at().DebugString();
  }
}

}  // namespace
}  // namespace fedhub::stream
