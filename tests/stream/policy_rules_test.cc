// Sharing policies and catalogue filters, each rule broken alone; the matching rules as
// truth tables; the currency, language-tag, tag and event-id predicates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stream/validate.h"
#include "validate_support.h"

namespace fedhub::stream {
namespace {

namespace v1 = ::fedhub::v1;
using namespace validate_test;  // NOLINT: the helpers of these tests
using ::testing::HasSubstr;
using ::testing::Not;

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
