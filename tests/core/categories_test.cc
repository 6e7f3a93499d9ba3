// Categories come from the proto declarations: every personal-data field has one, and a
// message narrowed to a consent's categories keeps only those fields.
#include "core/categories.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fedhub/v1/profile.pb.h"

namespace fedhub::categories {
namespace {

using ::testing::ElementsAre;
using v1::DataCategory;
using v1::ProfileFields;

TEST(Categories, FieldsReportWhatTheyDeclare) {
  const auto* d = ProfileFields::descriptor();
  EXPECT_EQ(Of(d->FindFieldByName("display_name")), v1::DATA_CATEGORY_PROFILE);
  EXPECT_EQ(Of(d->FindFieldByName("email")), v1::DATA_CATEGORY_CONTACT);
  EXPECT_EQ(Of(d->FindFieldByName("enrolments")), v1::DATA_CATEGORY_LEARNING);
  EXPECT_EQ(Of(d->FindFieldByName("purchases")), v1::DATA_CATEGORY_PURCHASES);
  EXPECT_EQ(Of(d->FindFieldByName("wish_list")), v1::DATA_CATEGORY_INTERESTS);
  EXPECT_EQ(Of(v1::Enrolment::descriptor()->FindFieldByName("item_id")), v1::DATA_CATEGORY_UNSPECIFIED);
  EXPECT_EQ(Of(nullptr), v1::DATA_CATEGORY_UNSPECIFIED);
}

TEST(Categories, EveryProfileFieldDeclaresOneAndEveryCategoryIsUsed) {
  const auto* d = ProfileFields::descriptor();
  auto declared = Declared(d);
  EXPECT_EQ(static_cast<int>(declared.size()), d->field_count())
      << "a personal-data field of ProfileFields has no (fedhub.v1.category)";
  std::set<DataCategory> used;
  for (const auto& [field, category] : declared) used.insert(category);
  const auto* categories = v1::DataCategory_descriptor();
  for (int i = 0; i < categories->value_count(); ++i) {
    auto c = static_cast<DataCategory>(categories->value(i)->number());
    if (c == v1::DATA_CATEGORY_UNSPECIFIED) continue;
    EXPECT_EQ(used.count(c), 1u) << categories->value(i)->name() << " is declared by no field";
  }
}

TEST(Categories, PresentListsTheCategoriesOfSetFields) {
  ProfileFields p;
  EXPECT_TRUE(Present(p).empty());
  p.set_email("ada@example.org");
  p.add_enrolments()->set_item_id("course-1");
  EXPECT_THAT(Present(p), ElementsAre(v1::DATA_CATEGORY_CONTACT, v1::DATA_CATEGORY_LEARNING));
}

TEST(Categories, NarrowKeepsOnlyTheAllowedCategories) {
  ProfileFields p;
  p.set_display_name("Ada");
  p.set_email("ada@example.org");
  p.set_phone("+44 20 0000 0000");
  p.add_enrolments()->set_item_id("course-1");
  p.add_interest_tags("rust");
  auto removed = Narrow(&p, {v1::DATA_CATEGORY_LEARNING, v1::DATA_CATEGORY_PROFILE});
  EXPECT_THAT(removed, ElementsAre(v1::DATA_CATEGORY_CONTACT, v1::DATA_CATEGORY_INTERESTS));
  EXPECT_EQ(p.display_name(), "Ada");
  EXPECT_EQ(p.enrolments_size(), 1);
  EXPECT_TRUE(p.email().empty());
  EXPECT_TRUE(p.phone().empty());
  EXPECT_EQ(p.interest_tags_size(), 0);
  EXPECT_TRUE(Narrow(&p, {}).size() == 2u);
  EXPECT_EQ(p.ByteSizeLong(), 0u);
}

}  // namespace
}  // namespace fedhub::categories
