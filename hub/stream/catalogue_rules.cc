// The catalogue rules of the stream validation (declared in validate.h): catalogue changes
// and items, removals, tags and language tags, sharing policies and subscriber filters, and
// the two matching rules applied at delivery. Events and profile changes are in validate.cc.
#include "stream/validate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/strings.h"
#include "identity/ids.h"
#include "stream/validate_internal.h"

namespace fedhub::stream {
namespace {

namespace v1 = ::fedhub::v1;
using google::protobuf::FieldDescriptor;
using validate_internal::AsciiLower;
using validate_internal::CheckCount;
using validate_internal::CheckCurrency;
using validate_internal::CheckEntryBytes;
using validate_internal::CheckEnum;
using validate_internal::CheckGenerically;
using validate_internal::CheckMaxBytes;
using validate_internal::CheckOwnUnknownFields;
using validate_internal::CheckPrintableId;
using validate_internal::CheckRequiredBytes;
using validate_internal::Indexed;
using validate_internal::Invalid;
using validate_internal::IsAsciiAlnum;
using validate_internal::IsAsciiDigit;
using validate_internal::IsAsciiLower;
using validate_internal::kMaxPriceMinor;
using validate_internal::kNoLimit;
using validate_internal::Quote;

constexpr size_t kMaxSharedPlatforms = 1000;
constexpr size_t kMaxFilterEntries = 100;
constexpr char kTagRule[] =
    "use 1 to 64 characters of lowercase letters, digits, '-', '+', '.', '#'";

absl::Status CheckTag(std::string_view tag, std::string_view path) {
  if (IsTag(tag)) return absl::OkStatus();
  return Invalid(Cat(path, ": ", Quote(tag), " is not a tag; ", kTagRule));
}

absl::Status CheckLanguage(std::string_view tag, std::string_view path) {
  if (IsLanguageTag(tag)) return absl::OkStatus();
  return Invalid(Cat(path, ": ", Quote(tag),
                     " is not a BCP 47 language tag; use one such as \"en\", \"zh-Hans\" or "
                     "\"pt-BR\""));
}

absl::Status CheckRemoval(const v1::CatalogueItem& item, const EventLimits& limits) {
  RETURN_IF_INVALID(CheckGenerically(item, "catalogue.item", {limits.max_repeated, kNoLimit}));
  RETURN_IF_INVALID(CheckPrintableId(item.item_id(), "catalogue.item.item_id"));
  RETURN_IF_INVALID(
      CheckEnum(item.kind(), v1::ItemKind_descriptor(), "catalogue.item.kind", false));
  std::vector<const FieldDescriptor*> set;
  item.GetReflection()->ListFields(item, &set);
  for (const FieldDescriptor* f : set) {
    if (f->number() == v1::CatalogueItem::kItemIdFieldNumber ||
        f->number() == v1::CatalogueItem::kKindFieldNumber) {
      continue;
    }
    return Invalid(Cat("catalogue.item.", f->name(),
                       ": a removal carries only item_id and kind; clear the field, or publish "
                       "without removed to update the item"));
  }
  return absl::OkStatus();
}

std::string_view PrimarySubtag(std::string_view tag) { return tag.substr(0, tag.find('-')); }

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

}  // namespace

absl::Status ValidateCatalogueChange(const v1::CatalogueChange& change, const EventLimits& limits) {
  RETURN_IF_INVALID(CheckOwnUnknownFields(change, "catalogue"));
  if (!change.has_item()) {
    return Invalid(
        "catalogue.item is required: set the item (for a removal, its item_id and kind)");
  }
  if (change.removed()) return CheckRemoval(change.item(), limits);
  return ValidateCatalogueItem(change.item(), limits);
}

absl::Status ValidateCatalogueItem(const v1::CatalogueItem& item, const EventLimits& limits) {
  RETURN_IF_INVALID(CheckGenerically(item, "catalogue.item", {limits.max_repeated, kNoLimit}));
  RETURN_IF_INVALID(CheckPrintableId(item.item_id(), "catalogue.item.item_id"));
  RETURN_IF_INVALID(
      CheckEnum(item.kind(), v1::ItemKind_descriptor(), "catalogue.item.kind", false));
  RETURN_IF_INVALID(CheckRequiredBytes(item.title(), "catalogue.item.title", 300));
  RETURN_IF_INVALID(CheckMaxBytes(item.description(), "catalogue.item.description", 10'000));
  RETURN_IF_INVALID(CheckCount(item.authors_size(), "catalogue.item.authors", 50));
  for (int i = 0; i < item.authors_size(); ++i) {
    RETURN_IF_INVALID(CheckEntryBytes(item.authors(i), Indexed("catalogue.item.authors", i), 200));
  }
  RETURN_IF_INVALID(CheckCount(item.tags_size(), "catalogue.item.tags", 50));
  for (int i = 0; i < item.tags_size(); ++i) {
    RETURN_IF_INVALID(CheckTag(item.tags(i), Indexed("catalogue.item.tags", i)));
  }
  if (item.price_minor() < 0 || item.price_minor() > kMaxPriceMinor) {
    return Invalid(Cat("catalogue.item.price_minor: ", item.price_minor(),
                       " is out of range; give the price in minor units of the currency, 0 "
                       "(free) to ",
                       kMaxPriceMinor));
  }
  RETURN_IF_INVALID(CheckCurrency(item.currency(), "catalogue.item.currency"));
  if (item.language().empty()) {
    return Invalid(
        "catalogue.item.language is required: a BCP 47 tag such as \"en\", \"zh-Hans\" or "
        "\"pt-BR\"");
  }
  RETURN_IF_INVALID(CheckLanguage(item.language(), "catalogue.item.language"));
  RETURN_IF_INVALID(
      CheckEnum(item.level(), v1::ItemLevel_descriptor(), "catalogue.item.level", true));
  RETURN_IF_INVALID(CheckMaxBytes(item.licence(), "catalogue.item.licence", 200));
  RETURN_IF_INVALID(CheckMaxBytes(item.version(), "catalogue.item.version", 64));
  if (const size_t bytes = item.ByteSizeLong(); bytes > limits.max_catalogue_bytes) {
    return Invalid(Cat("catalogue.item: ", bytes, " bytes serialized, at most ",
                       limits.max_catalogue_bytes, "; shorten the description"));
  }
  return absl::OkStatus();
}

bool IsLanguageTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return false;
  const std::string_view primary = PrimarySubtag(tag);
  if (primary.size() < 2 || primary.size() > 8 ||
      !std::all_of(primary.begin(), primary.end(), IsAsciiLower)) {
    return false;
  }
  tag.remove_prefix(primary.size());
  while (!tag.empty()) {  // "-subtag" at a time
    tag.remove_prefix(1);
    const std::string_view subtag = PrimarySubtag(tag);
    if (subtag.empty() || subtag.size() > 8 ||
        !std::all_of(subtag.begin(), subtag.end(), IsAsciiAlnum)) {
      return false;
    }
    tag.remove_prefix(subtag.size());
  }
  return true;
}

bool IsTag(std::string_view tag) {
  return !tag.empty() && tag.size() <= 64 && std::all_of(tag.begin(), tag.end(), [](char c) {
    return IsAsciiLower(c) || IsAsciiDigit(c) || c == '-' || c == '+' || c == '.' || c == '#';
  });
}

absl::Status ValidateSharingPolicy(const v1::SharingPolicy& policy, std::string_view path) {
  const std::string base(path);
  RETURN_IF_INVALID(CheckGenerically(policy, base, {}));
  const std::string ids_path = base + ".platform_ids";
  if (policy.platform_ids_size() > static_cast<int>(kMaxSharedPlatforms)) {
    return Invalid(Cat(ids_path, ": ", policy.platform_ids_size(), " entries, at most ",
                       kMaxSharedPlatforms, "; set all_members to share with every member"));
  }
  std::set<std::string_view> seen_ids;
  for (int i = 0; i < policy.platform_ids_size(); ++i) {
    const std::string& id = policy.platform_ids(i);
    RETURN_IF_INVALID(ids::ValidatePrincipalId(id, Indexed(ids_path, i)));
    if (!seen_ids.insert(id).second) {
      return Invalid(
          Cat(Indexed(ids_path, i), ": ", Quote(id), " is listed twice; list each platform once"));
    }
  }
  std::set<int> seen_kinds;
  for (int i = 0; i < policy.kinds_size(); ++i) {
    const std::string kind_path = Indexed(base + ".kinds", i);
    const int kind = policy.kinds(i);
    RETURN_IF_INVALID(CheckEnum(kind, v1::ItemKind_descriptor(), kind_path, false));
    if (!seen_kinds.insert(kind).second) {
      return Invalid(Cat(kind_path, ": ", v1::ItemKind_Name(static_cast<v1::ItemKind>(kind)),
                         " is listed twice; list each kind once"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCatalogueFilter(const v1::CatalogueFilter& filter, std::string_view path) {
  const std::string base(path);
  RETURN_IF_INVALID(CheckGenerically(filter, base, {kMaxFilterEntries, kNoLimit}));
  for (int i = 0; i < filter.kinds_size(); ++i) {
    RETURN_IF_INVALID(
        CheckEnum(filter.kinds(i), v1::ItemKind_descriptor(), Indexed(base + ".kinds", i), false));
  }
  for (int i = 0; i < filter.tags_size(); ++i) {
    RETURN_IF_INVALID(CheckTag(filter.tags(i), Indexed(base + ".tags", i)));
  }
  for (int i = 0; i < filter.languages_size(); ++i) {
    RETURN_IF_INVALID(CheckLanguage(filter.languages(i), Indexed(base + ".languages", i)));
  }
  return absl::OkStatus();
}

bool MatchesFilter(const v1::CatalogueFilter& filter, const v1::CatalogueItem& item) {
  const auto& kinds = filter.kinds();
  if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), item.kind()) == kinds.end()) {
    return false;
  }
  const auto& tags = filter.tags();
  if (!tags.empty() && std::none_of(item.tags().begin(), item.tags().end(), [&](const auto& tag) {
        return std::find(tags.begin(), tags.end(), tag) != tags.end();
      })) {
    return false;
  }
  const auto& languages = filter.languages();
  const std::string_view primary = PrimarySubtag(item.language());
  return languages.empty() ||
         (!primary.empty() &&
          std::any_of(languages.begin(), languages.end(), [&](const std::string& language) {
            return EqualsIgnoringAsciiCase(PrimarySubtag(language), primary);
          }));
}

bool Shares(const v1::SharingPolicy& policy, std::string_view subscriber, v1::ItemKind kind) {
  const auto& ids = policy.platform_ids();
  if (!policy.all_members() && std::find(ids.begin(), ids.end(), subscriber) == ids.end()) {
    return false;
  }
  return policy.kinds().empty() ||
         std::find(policy.kinds().begin(), policy.kinds().end(), kind) != policy.kinds().end();
}

}  // namespace fedhub::stream

#undef RETURN_IF_INVALID
