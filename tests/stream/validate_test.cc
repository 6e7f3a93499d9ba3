// Validation of published events: a valid event passes, and each rule of the contract,
// broken alone, is refused with INVALID_ARGUMENT and a message that starts with the path of
// the offending field. (Sharing policies, filters and the predicates: policy_rules_test.cc.)
#include "stream/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/categories.h"
#include "validate_support.h"

namespace fedhub::stream {
namespace {

namespace v1 = ::fedhub::v1;
using namespace validate_test;  // NOLINT: the helpers of these tests
using ::testing::HasSubstr;
using ::testing::Not;
TEST(ValidateEvent, ValidProfileChangePasses) {
  EXPECT_TRUE(ValidateEvent(ValidProfileEvent()).ok()) << ValidateEvent(ValidProfileEvent());
}

TEST(ValidateEvent, ValidCatalogueItemPasses) {
  EXPECT_TRUE(ValidateEvent(ValidCatalogueEvent()).ok()) << ValidateEvent(ValidCatalogueEvent());
}

TEST(ValidateEvent, BoundaryValuesPass) {
  v1::PublishEvent p = ValidProfileEvent();
  p.set_event_id(std::string(128, '~'));
  p.mutable_profile()->mutable_user()->set_local_user_id(std::string(128, '!'));
  Fields(p).set_email(std::string(244, 'a') + "@example.o");  // 254 bytes
  Fields(p).set_phone("+123456789012345");                    // 15 digits
  Fields(p).set_display_name(std::string(200, 'x'));
  Fields(p).mutable_purchases(0)->set_price_minor(1'000'000'000'000);
  Fields(p).mutable_enrolments(0)->set_progress_permille(0);
  EXPECT_TRUE(ValidateEvent(p).ok()) << ValidateEvent(p);

  v1::PublishEvent c = ValidCatalogueEvent();
  Item(c).set_price_minor(0);
  Item(c).set_level(v1::ITEM_LEVEL_UNSPECIFIED);
  Item(c).set_title(std::string(300, 't'));
  Item(c).set_description(std::string(10'000, 'd'));
  for (int i = Item(c).tags_size(); i < 50; ++i) Item(c).add_tags("t" + std::to_string(i));
  EXPECT_TRUE(ValidateEvent(c).ok()) << ValidateEvent(c);
}

TEST(ValidateEvent, ChangeOfOneCategoryCarriesOnlyItsFields) {
  v1::PublishEvent e = ValidProfileEvent();
  v1::ProfileChange& p = *e.mutable_profile();
  p.clear_categories();
  p.add_categories(v1::DATA_CATEGORY_CONTACT);
  p.clear_fields();
  p.mutable_fields()->set_email("ada@example.org");
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
  p.clear_fields();  // clearing every field of the category is a valid change too
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
}

TEST(ValidateEvent, RemovalCarriesOnlyIdAndKind) {
  v1::PublishEvent e;
  e.set_event_id("evt-3");
  e.mutable_catalogue()->set_removed(true);
  Item(e).set_item_id("course-1");
  Item(e).set_kind(v1::ITEM_KIND_COURSE);
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
  Item(e).set_title("Still here");
  EXPECT_TRUE(RefusesField(ValidateEvent(e), "catalogue.item.title"));
  EXPECT_THAT(Message(ValidateEvent(e)), HasSubstr("a removal carries only item_id and kind"));
}

// The category of each field comes from its declaration: setting any declared field in a
// change that lists every category but its own is refused, naming the field and category.
TEST(ValidateEvent, EveryFieldMustBelongToAListedCategory) {
  const auto* descriptor = v1::ProfileFields::descriptor();
  for (const auto& [field, category] : categories::Declared(descriptor)) {
    v1::PublishEvent e = ValidProfileEvent();
    v1::ProfileChange& p = *e.mutable_profile();
    p.clear_categories();
    for (int c = 1; c < v1::DataCategory_descriptor()->value_count(); ++c) {
      if (c != category) p.add_categories(static_cast<v1::DataCategory>(c));
    }
    p.clear_fields();
    v1::ProfileFields& f = *p.mutable_fields();
    const auto* r = f.GetReflection();
    if (field->is_repeated() &&
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      r->AddMessage(&f, field);
    } else if (field->is_repeated()) {
      r->AddString(&f, field, "x");
    } else {
      r->SetString(&f, field, "x");
    }
    absl::Status s = ValidateEvent(e);
    EXPECT_TRUE(RefusesField(s, "profile.fields." + field->name()));
    EXPECT_THAT(Message(s), HasSubstr("add " + v1::DataCategory_Name(category)));
  }
}

TEST(ValidateEvent, MessagesSayWhatToFix) {
  v1::PublishEvent e = ValidProfileEvent();
  e.mutable_profile()->clear_categories();
  e.mutable_profile()->add_categories(v1::DATA_CATEGORY_PROFILE);
  EXPECT_EQ(Message(ValidateEvent(e)),
            "profile.fields.email is in category CONTACT, which this change does not list in "
            "profile.categories; add DATA_CATEGORY_CONTACT or clear the field");

  e = ValidProfileEvent();
  AddUnknown(Fields(e));
  EXPECT_THAT(Message(ValidateEvent(e)),
              HasSubstr("profile.fields: unknown field number 42; the hub knows fields 1-10 of "
                        "fedhub.v1.ProfileFields"));

  e = ValidProfileEvent();
  Fields(e).set_email(std::string(290, 'a') + "@example.org");
  EXPECT_THAT(Message(ValidateEvent(e)), HasSubstr("profile.fields.email: 302 bytes, at most 254"));

  e = ValidCatalogueEvent();
  Item(e).set_currency("EURO");
  EXPECT_THAT(Message(ValidateEvent(e)),
              HasSubstr("catalogue.item.currency: \"EURO\" is not an active ISO 4217 code (e.g. "
                        "\"EUR\")"));
  Item(e).set_currency("usd");
  EXPECT_THAT(Message(ValidateEvent(e)), HasSubstr("(e.g. \"USD\")"));
}

TEST(ValidateEvent, PersonalDataIsNotEchoed) {
  v1::PublishEvent e = ValidProfileEvent();
  Fields(e).set_email("ada.lovelace.example.org");
  EXPECT_THAT(Message(ValidateEvent(e)), Not(HasSubstr("lovelace")));
  e = ValidProfileEvent();
  Fields(e).set_phone("+49 30 9999 1234");
  EXPECT_THAT(Message(ValidateEvent(e)), Not(HasSubstr("9999")));
}

// One rule broken on an otherwise valid event.
struct Case {
  std::string name;
  std::function<void(v1::PublishEvent&)> breaks;
  std::string path;  // the field the refusal must name
  EventLimits limits = {};
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string Utf8Bad() { return "caf\xc3"; }  // a sequence cut short

std::vector<Case> ProfileCases() {
  using E = v1::PublishEvent;
  auto enrol = [](E& e) { return Fields(e).mutable_enrolments(0); };
  auto buy = [](E& e) { return Fields(e).mutable_purchases(0); };
  return {
      {"EventIdEmpty", [](E& e) { e.clear_event_id(); }, "event_id"},
      {"EventIdTooLong", [](E& e) { e.set_event_id(Bad(129)); }, "event_id"},
      {"EventIdWithSpace", [](E& e) { e.set_event_id("evt 1"); }, "event_id"},
      {"EventIdNotAscii", [](E& e) { e.set_event_id("évt"); }, "event_id"},
      {"NoPayload", [](E& e) { e.clear_payload(); }, "event"},
      {"EventUnknownField", [](E& e) { AddUnknown(e); }, "event"},
      {"ChangeUnknownField", [](E& e) { AddUnknown(*e.mutable_profile()); }, "profile"},
      {"UserUnknownField", [](E& e) { AddUnknown(*e.mutable_profile()->mutable_user()); },
       "profile.user"},
      {"FieldsUnknownField", [](E& e) { AddUnknown(Fields(e)); }, "profile.fields"},
      {"EnrolmentUnknownField", [=](E& e) { AddUnknown(*enrol(e)); },
       "profile.fields.enrolments[0]"},
      {"PurchaseUnknownField", [=](E& e) { AddUnknown(*buy(e)); }, "profile.fields.purchases[0]"},
      {"UserMissing", [](E& e) { e.mutable_profile()->clear_user(); },
       "profile.user.local_user_id"},
      {"UserTooLong",
       [](E& e) { e.mutable_profile()->mutable_user()->set_local_user_id(Bad(129)); },
       "profile.user.local_user_id"},
      {"UserWithSpace", [](E& e) { e.mutable_profile()->mutable_user()->set_local_user_id("u 1"); },
       "profile.user.local_user_id"},
      {"NoCategories", [](E& e) { e.mutable_profile()->clear_categories(); }, "profile.categories"},
      {"UnspecifiedCategory",
       [](E& e) { e.mutable_profile()->add_categories(v1::DATA_CATEGORY_UNSPECIFIED); },
       "profile.categories[5]"},
      {"UndefinedCategory",
       [](E& e) { e.mutable_profile()->add_categories(static_cast<v1::DataCategory>(42)); },
       "profile.categories[5]"},
      {"RepeatedCategory",
       [](E& e) { e.mutable_profile()->add_categories(v1::DATA_CATEGORY_CONTACT); },
       "profile.categories[5]"},
      {"VersionZero", [](E& e) { e.mutable_profile()->set_version(0); }, "profile.version"},
      {"VersionNegative", [](E& e) { e.mutable_profile()->set_version(-5); }, "profile.version"},
      {"FieldOutsideCategories",
       [](E& e) {
         e.mutable_profile()->mutable_categories()->RemoveLast();  // INTERESTS
       },
       "profile.fields.interest_tags"},
      {"EmailTooLong", [](E& e) { Fields(e).set_email(Bad(250) + "@x.org"); },
       "profile.fields.email"},
      {"EmailWithoutAt", [](E& e) { Fields(e).set_email("ada.example.org"); },
       "profile.fields.email"},
      {"EmailTwoAts", [](E& e) { Fields(e).set_email("ada@lab@example.org"); },
       "profile.fields.email"},
      {"EmailNoLocalPart", [](E& e) { Fields(e).set_email("@example.org"); },
       "profile.fields.email"},
      {"EmailNoDomain", [](E& e) { Fields(e).set_email("ada@"); }, "profile.fields.email"},
      {"PhoneWithoutPlus", [](E& e) { Fields(e).set_phone("442071838750"); },
       "profile.fields.phone"},
      {"PhoneWithSpaces", [](E& e) { Fields(e).set_phone("+44 20 7183 8750"); },
       "profile.fields.phone"},
      {"PhoneTooShort", [](E& e) { Fields(e).set_phone("+1234567"); }, "profile.fields.phone"},
      {"PhoneTooLong", [](E& e) { Fields(e).set_phone("+1234567890123456"); },
       "profile.fields.phone"},
      {"CountryLowercase", [](E& e) { Fields(e).set_country("gb"); }, "profile.fields.country"},
      {"CountryAlpha3", [](E& e) { Fields(e).set_country("GBR"); }, "profile.fields.country"},
      {"LocaleUnderscore", [](E& e) { Fields(e).set_locale("en_GB"); }, "profile.fields.locale"},
      {"LocaleUppercase", [](E& e) { Fields(e).set_locale("EN"); }, "profile.fields.locale"},
      {"AgeBandTooLong", [](E& e) { Fields(e).set_age_band(Bad(17)); }, "profile.fields.age_band"},
      {"DisplayNameTooLong", [](E& e) { Fields(e).set_display_name(Bad(201)); },
       "profile.fields.display_name"},
      {"DisplayNameNotUtf8", [](E& e) { Fields(e).set_display_name(Utf8Bad()); },
       "profile.fields.display_name"},
      {"WishNotUtf8Overlong", [](E& e) { Fields(e).set_wish_list(0, "\xc0\xaf"); },
       "profile.fields.wish_list[0]"},
      {"AgeBandSurrogate", [](E& e) { Fields(e).set_age_band("\xed\xa0\x80"); },
       "profile.fields.age_band"},
      {"InterestTagEmpty", [](E& e) { Fields(e).set_interest_tags(1, ""); },
       "profile.fields.interest_tags[1]"},
      {"InterestTagTooLong", [](E& e) { Fields(e).add_interest_tags(Bad(129)); },
       "profile.fields.interest_tags[2]"},
      {"WishTooLong", [](E& e) { Fields(e).set_wish_list(0, Bad(129)); },
       "profile.fields.wish_list[0]"},
      {"EnrolmentItemEmpty", [=](E& e) { enrol(e)->clear_item_id(); },
       "profile.fields.enrolments[0].item_id"},
      {"EnrolmentItemTooLong", [=](E& e) { enrol(e)->set_item_id(Bad(129)); },
       "profile.fields.enrolments[0].item_id"},
      {"ProgressNegative", [=](E& e) { enrol(e)->set_progress_permille(-1); },
       "profile.fields.enrolments[0].progress_permille"},
      {"ProgressAboveAll", [=](E& e) { enrol(e)->set_progress_permille(1001); },
       "profile.fields.enrolments[0].progress_permille"},
      {"SecondsNegative", [=](E& e) { enrol(e)->set_seconds_spent(-1); },
       "profile.fields.enrolments[0].seconds_spent"},
      {"PurchaseItemEmpty", [=](E& e) { buy(e)->clear_item_id(); },
       "profile.fields.purchases[0].item_id"},
      {"PurchasePriceNegative", [=](E& e) { buy(e)->set_price_minor(-1); },
       "profile.fields.purchases[0].price_minor"},
      {"PurchasePriceTooHigh", [=](E& e) { buy(e)->set_price_minor(1'000'000'000'001); },
       "profile.fields.purchases[0].price_minor"},
      {"PurchaseCurrencyMissing", [=](E& e) { buy(e)->clear_currency(); },
       "profile.fields.purchases[0].currency"},
      {"PurchaseCurrencyGold", [=](E& e) { buy(e)->set_currency("XAU"); },
       "profile.fields.purchases[0].currency"},
      {"ThirdPurchaseCurrency",
       [](E& e) {
         for (int i = 0; i < 2; ++i) *Fields(e).add_purchases() = Fields(e).purchases(0);
         Fields(e).mutable_purchases(2)->set_currency("EURO");
       },
       "profile.fields.purchases[2].currency"},
      {"PurchaseTimeMissing", [=](E& e) { buy(e)->set_purchased_at_micros(0); },
       "profile.fields.purchases[0].purchased_at_micros"},
      {"TooManyEntries",
       [](E& e) {
         for (int i = 0; i < 5; ++i) Fields(e).add_wish_list("b");
       },
       "profile.fields.wish_list", EventLimits{.max_repeated = 5}},
      {"TooManyCategories", [](E& e) {}, "profile.categories", EventLimits{.max_repeated = 4}},
      {"ProfileTooLarge", [](E& e) {}, "profile.fields", EventLimits{.max_profile_bytes = 100}},
  };
}

std::vector<Case> CatalogueCases() {
  using E = v1::PublishEvent;
  auto remove = [](E& e) {  // a valid removal of the item
    v1::CatalogueItem kept;
    kept.set_item_id(Item(e).item_id());
    kept.set_kind(Item(e).kind());
    Item(e) = kept;
    e.mutable_catalogue()->set_removed(true);
  };
  return {
      {"ChangeUnknownField", [](E& e) { AddUnknown(*e.mutable_catalogue()); }, "catalogue"},
      {"ItemUnknownField", [](E& e) { AddUnknown(Item(e)); }, "catalogue.item"},
      {"ItemMissing", [](E& e) { e.mutable_catalogue()->clear_item(); }, "catalogue.item"},
      {"ItemIdEmpty", [](E& e) { Item(e).clear_item_id(); }, "catalogue.item.item_id"},
      {"ItemIdTooLong", [](E& e) { Item(e).set_item_id(Bad(129)); }, "catalogue.item.item_id"},
      {"ItemIdWithSpace", [](E& e) { Item(e).set_item_id("course 1"); }, "catalogue.item.item_id"},
      {"KindUnspecified", [](E& e) { Item(e).clear_kind(); }, "catalogue.item.kind"},
      {"KindUndefined", [](E& e) { Item(e).set_kind(static_cast<v1::ItemKind>(99)); },
       "catalogue.item.kind"},
      {"TitleEmpty", [](E& e) { Item(e).clear_title(); }, "catalogue.item.title"},
      {"TitleTooLong", [](E& e) { Item(e).set_title(Bad(301)); }, "catalogue.item.title"},
      {"TitleNotUtf8", [](E& e) { Item(e).set_title(Utf8Bad()); }, "catalogue.item.title"},
      {"DescriptionTooLong", [](E& e) { Item(e).set_description(Bad(10'001)); },
       "catalogue.item.description"},
      {"DescriptionNotUtf8", [](E& e) { Item(e).set_description("\xff"); },
       "catalogue.item.description"},
      {"TooManyAuthors",
       [](E& e) {
         for (int i = 0; i < 50; ++i) Item(e).add_authors("A");
       },
       "catalogue.item.authors"},
      {"AuthorEmpty", [](E& e) { Item(e).add_authors(""); }, "catalogue.item.authors[1]"},
      {"AuthorTooLong", [](E& e) { Item(e).set_authors(0, Bad(201)); },
       "catalogue.item.authors[0]"},
      {"TooManyTags",
       [](E& e) {
         for (int i = 0; i < 49; ++i) Item(e).add_tags("t");
       },
       "catalogue.item.tags"},
      {"TagUppercase", [](E& e) { Item(e).set_tags(1, "Rust"); }, "catalogue.item.tags[1]"},
      {"TagWithSpace", [](E& e) { Item(e).set_tags(1, "web dev"); }, "catalogue.item.tags[1]"},
      {"TagEmpty", [](E& e) { Item(e).set_tags(0, ""); }, "catalogue.item.tags[0]"},
      {"TagTooLong", [](E& e) { Item(e).set_tags(0, Bad(65)); }, "catalogue.item.tags[0]"},
      {"PriceNegative", [](E& e) { Item(e).set_price_minor(-1); }, "catalogue.item.price_minor"},
      {"PriceTooHigh", [](E& e) { Item(e).set_price_minor(1'000'000'000'001); },
       "catalogue.item.price_minor"},
      {"CurrencyMissing", [](E& e) { Item(e).clear_currency(); }, "catalogue.item.currency"},
      {"CurrencyTooLong", [](E& e) { Item(e).set_currency("EURO"); }, "catalogue.item.currency"},
      {"CurrencyLowercase", [](E& e) { Item(e).set_currency("eur"); }, "catalogue.item.currency"},
      {"CurrencyFund", [](E& e) { Item(e).set_currency("BOV"); }, "catalogue.item.currency"},
      {"CurrencyWithdrawn", [](E& e) { Item(e).set_currency("HRK"); }, "catalogue.item.currency"},
      {"LanguageMissing", [](E& e) { Item(e).clear_language(); }, "catalogue.item.language"},
      {"LanguageUnderscore", [](E& e) { Item(e).set_language("en_US"); },
       "catalogue.item.language"},
      {"LanguageOneLetter", [](E& e) { Item(e).set_language("e"); }, "catalogue.item.language"},
      {"LevelUndefined", [](E& e) { Item(e).set_level(static_cast<v1::ItemLevel>(9)); },
       "catalogue.item.level"},
      {"LicenceTooLong", [](E& e) { Item(e).set_licence(Bad(201)); }, "catalogue.item.licence"},
      {"VersionTooLong", [](E& e) { Item(e).set_version(Bad(65)); }, "catalogue.item.version"},
      {"TooManyEntries", [](E& e) {}, "catalogue.item.tags", EventLimits{.max_repeated = 1}},
      {"ItemTooLarge", [](E& e) {}, "catalogue.item", EventLimits{.max_catalogue_bytes = 50}},
      {"RemovalWithTitle",
       [=](E& e) {
         remove(e);
         Item(e).set_title("t");
       },
       "catalogue.item.title"},
      {"RemovalWithPrice",
       [=](E& e) {
         remove(e);
         Item(e).set_price_minor(5);
       },
       "catalogue.item.price_minor"},
      {"RemovalWithTags",
       [=](E& e) {
         remove(e);
         Item(e).add_tags("rust");
       },
       "catalogue.item.tags"},
      {"RemovalWithoutKind",
       [=](E& e) {
         remove(e);
         Item(e).clear_kind();
       },
       "catalogue.item.kind"},
      {"RemovalWithoutId",
       [=](E& e) {
         remove(e);
         Item(e).clear_item_id();
       },
       "catalogue.item.item_id"},
      {"RemovalUnknownField",
       [=](E& e) {
         remove(e);
         AddUnknown(Item(e));
       },
       "catalogue.item"},
  };
}

class ValidateProfileRule : public ::testing::TestWithParam<Case> {};
class ValidateCatalogueRule : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateProfileRule, BrokenAloneIsRefusedNamingTheField) {
  v1::PublishEvent e = ValidProfileEvent();
  GetParam().breaks(e);
  EXPECT_TRUE(RefusesField(ValidateEvent(e, GetParam().limits), GetParam().path));
}

TEST_P(ValidateCatalogueRule, BrokenAloneIsRefusedNamingTheField) {
  v1::PublishEvent e = ValidCatalogueEvent();
  GetParam().breaks(e);
  EXPECT_TRUE(RefusesField(ValidateEvent(e, GetParam().limits), GetParam().path));
}

INSTANTIATE_TEST_SUITE_P(Event, ValidateProfileRule, ::testing::ValuesIn(ProfileCases()),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Event, ValidateCatalogueRule, ::testing::ValuesIn(CatalogueCases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace fedhub::stream
