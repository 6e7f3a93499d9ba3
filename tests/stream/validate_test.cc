// Validation of published events, sharing policies and filters: a valid event passes, and
// each rule of the contract, broken alone, is refused with INVALID_ARGUMENT and a message
// that starts with the path of the offending field. Then the matching rules (filters,
// sharing policies) as truth tables, and the currency, language and tag predicates.
#include "stream/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/categories.h"

namespace fedhub::stream {
namespace {

namespace v1 = ::fedhub::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// The status is INVALID_ARGUMENT and its message starts with `path` followed by ':', ' ' or
// the end: the field is named exactly, not a parent or a sibling with the same prefix.
::testing::AssertionResult RefusesField(const absl::Status& status, std::string_view path) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected INVALID_ARGUMENT, got " << status;
  }
  std::string_view message(status.message().data(), status.message().size());
  if (message.substr(0, path.size()) != path ||
      (message.size() > path.size() && message[path.size()] != ':' &&
       message[path.size()] != ' ')) {
    return ::testing::AssertionFailure()
           << "message does not start with " << path << ": " << message;
  }
  return ::testing::AssertionSuccess() << message;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

v1::ProfileFields& Fields(v1::PublishEvent& e) { return *e.mutable_profile()->mutable_fields(); }
v1::CatalogueItem& Item(v1::PublishEvent& e) { return *e.mutable_catalogue()->mutable_item(); }
void AddUnknown(google::protobuf::Message& m) {
  m.GetReflection()->MutableUnknownFields(&m)->AddVarint(42, 1);
}

v1::PublishEvent ValidProfileEvent() {
  v1::PublishEvent e;
  e.set_event_id("evt-0001");
  v1::ProfileChange& p = *e.mutable_profile();
  p.mutable_user()->set_local_user_id("u-17");
  for (auto c : {v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_CONTACT, v1::DATA_CATEGORY_LEARNING,
                 v1::DATA_CATEGORY_PURCHASES, v1::DATA_CATEGORY_INTERESTS}) {
    p.add_categories(c);
  }
  p.set_version(1700000000000000);
  v1::ProfileFields& f = *p.mutable_fields();
  f.set_display_name("Ada Lovelace");
  f.set_locale("en-GB");
  f.set_country("GB");
  f.set_age_band("25-34");
  f.set_email("ada@example.org");
  f.set_phone("+442071838750");
  v1::Enrolment& en = *f.add_enrolments();
  en.set_item_id("course-1");
  en.set_progress_permille(1000);
  en.set_completed(true);
  en.set_seconds_spent(3600);
  v1::Purchase& pu = *f.add_purchases();
  pu.set_item_id("tpl-9");
  pu.set_price_minor(1999);
  pu.set_currency("EUR");
  pu.set_purchased_at_micros(1700000000000000);
  f.add_interest_tags("rust");
  f.add_interest_tags("Machine learning, gently");
  f.add_wish_list("course-2");
  return e;
}

v1::PublishEvent ValidCatalogueEvent() {
  v1::PublishEvent e;
  e.set_event_id("evt-0002");
  v1::CatalogueItem& i = Item(e);
  i.set_item_id("course-1");
  i.set_kind(v1::ITEM_KIND_COURSE);
  i.set_title("Rust für C++-Programmierer");
  i.set_description("Ownership, borrowing and lifetimes, from a C++ point of view.");
  i.add_authors("Ada Lovelace");
  i.add_tags("rust");
  i.add_tags("c++");
  i.set_price_minor(4900);
  i.set_currency("EUR");
  i.set_language("de-AT");
  i.set_level(v1::ITEM_LEVEL_INTERMEDIATE);
  i.set_licence("single-seat");
  i.set_version("2.1.0");
  return e;
}

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

std::string Bad(int n) { return std::string(n, 'x'); }
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

TEST(ValidateSharingPolicy, AcceptsWellFormedPolicies) {
  v1::SharingPolicy p;
  EXPECT_TRUE(ValidateSharingPolicy(p).ok());  // shares with nobody
  p.add_platform_ids("store");
  p.add_platform_ids("audio-books-2");
  p.add_kinds(v1::ITEM_KIND_COURSE);
  p.add_kinds(v1::ITEM_KIND_AUDIO);
  EXPECT_TRUE(ValidateSharingPolicy(p).ok()) << ValidateSharingPolicy(p);
  p.set_all_members(true);
  EXPECT_TRUE(ValidateSharingPolicy(p).ok()) << ValidateSharingPolicy(p);
}

TEST(ValidateSharingPolicy, RefusesEachBrokenRule) {
  auto refuses = [](std::function<void(v1::SharingPolicy&)> breaks, std::string_view path) {
    v1::SharingPolicy p;
    p.add_platform_ids("store");
    p.add_kinds(v1::ITEM_KIND_COURSE);
    breaks(p);
    return RefusesField(ValidateSharingPolicy(p), path);
  };
  using P = v1::SharingPolicy;
  EXPECT_TRUE(refuses([](P& p) { p.add_platform_ids("Store"); }, "policy.platform_ids[1]"));
  EXPECT_TRUE(refuses([](P& p) { p.add_platform_ids("9store"); }, "policy.platform_ids[1]"));
  EXPECT_TRUE(refuses([](P& p) { p.add_platform_ids(""); }, "policy.platform_ids[1]"));
  EXPECT_TRUE(refuses([](P& p) { p.add_platform_ids("s" + Bad(64)); }, "policy.platform_ids[1]"));
  EXPECT_TRUE(refuses([](P& p) { p.add_platform_ids("store"); }, "policy.platform_ids[1]"));
  EXPECT_TRUE(refuses(
      [](P& p) {
        for (int i = 0; i < 1000; ++i) p.add_platform_ids("p" + std::to_string(i));
      },
      "policy.platform_ids"));
  EXPECT_TRUE(refuses([](P& p) { p.add_kinds(v1::ITEM_KIND_UNSPECIFIED); }, "policy.kinds[1]"));
  EXPECT_TRUE(refuses([](P& p) { p.add_kinds(static_cast<v1::ItemKind>(77)); }, "policy.kinds[1]"));
  EXPECT_TRUE(refuses([](P& p) { p.add_kinds(v1::ITEM_KIND_COURSE); }, "policy.kinds[1]"));
  EXPECT_TRUE(refuses([](P& p) { AddUnknown(p); }, "policy"));

  v1::SharingPolicy p;
  p.add_platform_ids("Store");
  EXPECT_TRUE(RefusesField(ValidateSharingPolicy(p, "next.policy"), "next.policy.platform_ids[0]"));
}

TEST(ValidateCatalogueFilter, AcceptsWellFormedFilters) {
  v1::CatalogueFilter f;
  EXPECT_TRUE(ValidateCatalogueFilter(f).ok());
  f.add_kinds(v1::ITEM_KIND_EBOOK);
  f.add_tags("c#");
  f.add_languages("zh-Hans");
  EXPECT_TRUE(ValidateCatalogueFilter(f).ok()) << ValidateCatalogueFilter(f);
}

TEST(ValidateCatalogueFilter, RefusesEachBrokenRule) {
  auto refuses = [](std::function<void(v1::CatalogueFilter&)> breaks, std::string_view path) {
    v1::CatalogueFilter f;
    breaks(f);
    return RefusesField(ValidateCatalogueFilter(f, "catalogue_filter"), path);
  };
  using F = v1::CatalogueFilter;
  EXPECT_TRUE(
      refuses([](F& f) { f.add_kinds(v1::ITEM_KIND_UNSPECIFIED); }, "catalogue_filter.kinds[0]"));
  EXPECT_TRUE(refuses([](F& f) { f.add_kinds(static_cast<v1::ItemKind>(8)); },
                      "catalogue_filter.kinds[0]"));
  EXPECT_TRUE(refuses(
      [](F& f) {
        f.add_tags("rust");
        f.add_tags("Go");
      },
      "catalogue_filter.tags[1]"));
  EXPECT_TRUE(refuses([](F& f) { f.add_languages("en_GB"); }, "catalogue_filter.languages[0]"));
  EXPECT_TRUE(refuses(
      [](F& f) {
        for (int i = 0; i < 101; ++i) f.add_tags("t");
      },
      "catalogue_filter.tags"));
  EXPECT_TRUE(refuses(
      [](F& f) {
        for (int i = 0; i < 101; ++i) f.add_languages("en");
      },
      "catalogue_filter.languages"));
  EXPECT_TRUE(refuses(
      [](F& f) {
        for (int i = 0; i < 101; ++i) f.add_kinds(v1::ITEM_KIND_AUDIO);
      },
      "catalogue_filter.kinds"));
  EXPECT_TRUE(refuses([](F& f) { AddUnknown(f); }, "catalogue_filter"));
}

TEST(ValidateMatchesFilter, EveryCriterionMustMatch) {
  v1::CatalogueItem item = ValidCatalogueEvent().catalogue().item();  // COURSE, rust c++, de-AT
  struct Row {
    std::vector<v1::ItemKind> kinds;
    std::vector<std::string> tags;
    std::vector<std::string> languages;
    bool matches;
  };
  const std::vector<Row> rows = {
      {{}, {}, {}, true},
      {{v1::ITEM_KIND_COURSE}, {}, {}, true},
      {{v1::ITEM_KIND_SOFTWARE}, {}, {}, false},
      {{v1::ITEM_KIND_SOFTWARE, v1::ITEM_KIND_COURSE}, {}, {}, true},
      {{}, {"rust"}, {}, true},
      {{}, {"go"}, {}, false},
      {{}, {"go", "c++"}, {}, true},
      {{}, {"rus"}, {}, false},
      {{}, {}, {"de"}, true},
      {{}, {}, {"de-DE"}, true},  // primary subtag match
      {{}, {}, {"DE"}, true},     // ignoring case
      {{}, {}, {"en"}, false},
      {{}, {}, {"en", "de"}, true},
      {{}, {}, {"deu"}, false},
      {{v1::ITEM_KIND_COURSE}, {"rust"}, {"de"}, true},
      {{v1::ITEM_KIND_COURSE}, {"go"}, {"de"}, false},
      {{v1::ITEM_KIND_COURSE}, {"rust"}, {"fr"}, false},
      {{v1::ITEM_KIND_EBOOK}, {"rust"}, {"de"}, false},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    v1::CatalogueFilter f;
    for (auto k : rows[i].kinds) f.add_kinds(k);
    for (const auto& t : rows[i].tags) f.add_tags(t);
    for (const auto& l : rows[i].languages) f.add_languages(l);
    EXPECT_EQ(MatchesFilter(f, item), rows[i].matches)
        << "row " << i << ": " << f.ShortDebugString();
  }
  v1::CatalogueFilter tags;
  tags.add_tags("rust");
  item.clear_tags();
  EXPECT_FALSE(MatchesFilter(tags, item));
  v1::CatalogueFilter languages;
  languages.add_languages("en");
  item.set_language("EN-gb");
  EXPECT_TRUE(MatchesFilter(languages, item));
  item.clear_language();
  EXPECT_FALSE(MatchesFilter(languages, item));
}

TEST(ValidateShares, PlatformsAndKinds) {
  v1::SharingPolicy nobody;
  EXPECT_FALSE(Shares(nobody, "store", v1::ITEM_KIND_COURSE));

  v1::SharingPolicy listed;
  listed.add_platform_ids("store");
  listed.add_platform_ids("audio");
  EXPECT_TRUE(Shares(listed, "store", v1::ITEM_KIND_COURSE));
  EXPECT_TRUE(Shares(listed, "audio", v1::ITEM_KIND_SOFTWARE));
  EXPECT_FALSE(Shares(listed, "stor", v1::ITEM_KIND_COURSE));
  EXPECT_FALSE(Shares(listed, "", v1::ITEM_KIND_COURSE));

  listed.add_kinds(v1::ITEM_KIND_COURSE);
  EXPECT_TRUE(Shares(listed, "store", v1::ITEM_KIND_COURSE));
  EXPECT_FALSE(Shares(listed, "store", v1::ITEM_KIND_SOFTWARE));
  EXPECT_FALSE(Shares(listed, "books", v1::ITEM_KIND_COURSE));

  v1::SharingPolicy everyone;
  everyone.set_all_members(true);
  everyone.add_platform_ids("store");  // ignored under all_members
  EXPECT_TRUE(Shares(everyone, "books", v1::ITEM_KIND_TEMPLATE));
  everyone.add_kinds(v1::ITEM_KIND_EBOOK);
  EXPECT_TRUE(Shares(everyone, "books", v1::ITEM_KIND_EBOOK));
  EXPECT_FALSE(Shares(everyone, "store", v1::ITEM_KIND_AUDIO));
}

TEST(ValidateCurrency, OnlyActiveCurrencies) {
  for (const char* code : {"EUR", "USD", "JPY", "CHF", "GBP", "XOF", "XPF", "SLE", "VES"}) {
    EXPECT_TRUE(IsActiveCurrency(code)) << code;
  }
  for (const char* code : {"XAU", "XAG", "XPT", "XPD", "XDR", "XTS", "XXX", "BOV", "CHE", "USN",
                           "HRK", "VEF", "EURO", "eur", "EU", "", "E R"}) {
    EXPECT_FALSE(IsActiveCurrency(code)) << code;
  }
}

TEST(ValidateLanguageTag, Shapes) {
  for (const char* tag :
       {"en", "zh-Hans", "pt-BR", "de-AT-1996", "sr-Latn-RS", "es-419", "gsw", "haw-US", "abcdefgh",
        "en-a-bbb-x-private", "en-aaaaaaaa-bbbbbbbb-cccccccc-ddddd"}) {  // 35 characters
    EXPECT_TRUE(IsLanguageTag(tag)) << tag;
  }
  for (const char* tag :
       {"", "e", "EN", "En-GB", "en_GB", "en-", "-en", "en--GB", "en GB", "en-abcdefghi",
        "abcdefghi", "12", "ên", "en-aaaaaaaa-bbbbbbbb-cccccccc-dddddd"}) {
    EXPECT_FALSE(IsLanguageTag(tag)) << tag;
  }
}

TEST(ValidateTag, Shapes) {
  for (const std::string& tag :
       std::vector<std::string>{"c++", "c#", "node.js", "a", "web-design", "3d", Bad(64)}) {
    EXPECT_TRUE(IsTag(tag)) << tag;
  }
  for (const std::string& tag :
       std::vector<std::string>{"", "Rust", "web design", "a_b", "ü", "x/y", Bad(65)}) {
    EXPECT_FALSE(IsTag(tag)) << tag;
  }
}

TEST(ValidateEventId, PrintableAscii) {
  EXPECT_TRUE(ValidateEventId("!").ok());
  EXPECT_TRUE(ValidateEventId(std::string(128, '~')).ok());
  for (std::string id : {std::string(), std::string(129, 'a'), std::string("a b"),
                         std::string("a\tb"), std::string("a\x7f"), std::string("\xc3\xa9")}) {
    EXPECT_TRUE(RefusesField(ValidateEventId(id), "event_id")) << id;
  }
}

}  // namespace
}  // namespace fedhub::stream
