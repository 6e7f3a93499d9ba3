// Catalogue exchange over real gRPC: sharing policies decide who receives what, the
// subscriber's filter narrows it, and a snapshot hands over to live changes with no gap and
// no duplicate.
#include <grpcpp/grpcpp.h>

#include "it_util.h"
#include "stream_util.h"

namespace fedhub::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class CatalogueStreamTest : public HubTest {
 protected:
  grpc::Status SetPolicy(const std::string& platform, const v1::SharingPolicy& policy) {
    auto stub = hub_->StubFor<v1::CatalogueService>(platform);
    grpc::ClientContext ctx;
    v1::SetSharingPolicyRequest req;
    *req.mutable_policy() = policy;
    v1::SetSharingPolicyResponse resp;
    return stub->SetSharingPolicy(&ctx, req, &resp);
  }

  std::vector<std::string> List(const std::string& platform, bool own = false) {
    auto stub = hub_->StubFor<v1::CatalogueService>(platform);
    std::vector<std::string> ids;
    std::string token;
    do {
      grpc::ClientContext ctx;
      v1::ListCatalogueRequest req;
      req.set_own(own);
      req.mutable_page()->set_page_size(2);
      req.mutable_page()->set_page_token(token);
      v1::ListCatalogueResponse resp;
      grpc::Status s = stub->ListCatalogue(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& it : resp.items()) ids.push_back(it.item().item_id());
      token = resp.next_page_token();
    } while (!token.empty());
    return ids;
  }

  static v1::SharingPolicy ShareWith(std::vector<std::string> platforms, std::vector<v1::ItemKind> kinds) {
    v1::SharingPolicy p;
    for (auto& id : platforms) p.add_platform_ids(id);
    for (auto k : kinds) p.add_kinds(k);
    return p;
  }

  static std::vector<std::string> ItemIds(const std::vector<v1::DeliveredEvent>& events) {
    std::vector<std::string> ids;
    for (const auto& e : events) ids.push_back(e.catalogue().item().item_id());
    return ids;
  }
};

TEST_F(CatalogueStreamTest, PolicyAndFilterDecideWhatEachSubscriberReceives) {
  ASSERT_TRUE(SetPolicy("course", ShareWith({"store"}, {v1::ITEM_KIND_COURSE, v1::ITEM_KIND_EBOOK})).ok());
  v1::SubscribeRequest filtered = SubscribeAfter(0);
  filtered.add_kinds(v1::STREAM_KIND_CATALOGUE);
  filtered.mutable_catalogue_filter()->add_languages("en");
  RawSubscriber at_store(*hub_, "store", filtered);
  RawSubscriber at_books(*hub_, "books", SubscribeAfter(0));
  RawPublisher pub(*hub_, "course");
  auto german = ItemEvent("e-3", "c-de", v1::ITEM_KIND_COURSE);
  german.mutable_catalogue()->mutable_item()->set_language("de");
  auto ack = pub.Send(Batch(1, {ItemEvent("e-1", "c-1", v1::ITEM_KIND_COURSE),
                                ItemEvent("e-2", "sw-1", v1::ITEM_KIND_SOFTWARE), german,
                                ItemEvent("e-4", "b-1", v1::ITEM_KIND_EBOOK)}));
  ASSERT_TRUE(ack.has_accepted()) << ack.DebugString();
  const uint64_t last = ack.accepted().offsets(3);

  ASSERT_TRUE(at_store.WaitForCursor(last));
  EXPECT_THAT(ItemIds(at_store.events()), ElementsAre("c-1", "b-1"));
  ASSERT_TRUE(at_books.WaitForCursor(last));
  EXPECT_THAT(at_books.events(), SizeIs(0));

  EXPECT_THAT(List("store"), ElementsAre("b-1", "c-1", "c-de"));
  EXPECT_THAT(List("books"), SizeIs(0));
  EXPECT_THAT(List("course", /*own=*/true), ElementsAre("b-1", "c-1", "c-de", "sw-1"));

  // A removal reaches the same subscribers; a narrower policy applies to later deliveries.
  v1::PublishEvent removal = ItemEvent("e-5", "c-1", v1::ITEM_KIND_COURSE);
  removal.mutable_catalogue()->set_removed(true);
  auto* item = removal.mutable_catalogue()->mutable_item();
  item->clear_title();
  item->clear_tags();
  item->clear_price_minor();
  item->clear_currency();
  item->clear_language();
  auto removed = pub.Send(Batch(2, {removal}));
  ASSERT_TRUE(removed.has_accepted()) << removed.DebugString();
  ASSERT_TRUE(at_store.WaitForEvents(3));
  EXPECT_TRUE(at_store.events().back().catalogue().removed());
  EXPECT_THAT(List("store"), ElementsAre("b-1", "c-de"));
}

TEST_F(CatalogueStreamTest, PolicyNamingAnUnknownPlatformOrItselfIsRefused) {
  grpc::Status s = SetPolicy("course", ShareWith({"nosuch"}, {}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("policy.platform_ids[0]"));
  s = SetPolicy("course", ShareWith({"course"}, {}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = SetPolicy("course", ShareWith({"store", "store"}, {}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CatalogueStreamTest, SnapshotThenLiveChangesWithoutGapOrDuplicate) {
  v1::SharingPolicy all;
  all.set_all_members(true);
  ASSERT_TRUE(SetPolicy("course", all).ok());
  RawPublisher pub(*hub_, "course");
  std::vector<v1::PublishEvent> items;
  for (int i = 0; i < 12; ++i) items.push_back(ItemEvent(Cat("e-", i), Cat("c-", 10 + i), v1::ITEM_KIND_COURSE));
  ASSERT_TRUE(pub.Send(Batch(1, items)).has_accepted());
  // An item changed twice before the snapshot appears once, in its last state.
  ASSERT_TRUE(pub.Send(Batch(2, {ItemEvent("e-x", "c-10", v1::ITEM_KIND_COURSE, "Renamed")})).has_accepted());

  v1::SubscribeRequest req;
  req.set_catalogue_snapshot(true);
  req.set_max_events_per_message(5);
  RawSubscriber s(*hub_, "store", req);
  ASSERT_TRUE(s.WaitUntil([](const auto& ms) { return !ms.empty() && ms.back().snapshot_complete(); }));
  auto snapshot = s.messages();
  ASSERT_THAT(snapshot, SizeIs(3));
  std::vector<v1::DeliveredEvent> snap_events;
  for (const auto& m : snapshot) {
    EXPECT_TRUE(m.snapshot());
    EXPECT_EQ(m.cursor(), snapshot.back().cursor());
    snap_events.insert(snap_events.end(), m.events().begin(), m.events().end());
  }
  ASSERT_THAT(snap_events, SizeIs(12));
  EXPECT_EQ(snap_events[0].catalogue().item().title(), "Renamed");

  auto live = pub.Send(Batch(3, {ItemEvent("e-live", "c-99", v1::ITEM_KIND_COURSE)}));
  ASSERT_TRUE(live.has_accepted());
  ASSERT_TRUE(s.WaitForEvents(13));
  auto all_events = s.events();
  ASSERT_THAT(all_events, SizeIs(13));
  EXPECT_EQ(all_events.back().catalogue().item().item_id(), "c-99");
  EXPECT_EQ(all_events.back().offset(), live.accepted().offsets(0));
  EXPECT_FALSE(s.messages().back().snapshot());
}

}  // namespace
}  // namespace fedhub::testing
