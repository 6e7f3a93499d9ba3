#include "stream/validate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/categories.h"
#include "core/strings.h"
#include "identity/ids.h"

// Returns the status of `expr` from the enclosing function unless it is OK.
#define RETURN_IF_INVALID(expr)                         \
  do {                                                  \
    if (absl::Status status_ = (expr); !status_.ok()) { \
      return status_;                                   \
    }                                                   \
  } while (false)

namespace fedhub::stream {
namespace {

namespace v1 = ::fedhub::v1;
using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxIdBytes = 128;
constexpr int64_t kMaxPriceMinor = 1'000'000'000'000;
constexpr size_t kMaxSharedPlatforms = 1000;
constexpr size_t kMaxFilterEntries = 100;
constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();
constexpr char kTagRule[] =
    "use 1 to 64 characters of lowercase letters, digits, '-', '+', '.', '#'";

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

std::string Indexed(std::string_view path, int index) { return Cat(path, "[", index, "]"); }

bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) { return IsAsciiLower(c) || IsAsciiUpper(c) || IsAsciiDigit(c); }
char AsciiLower(char c) { return IsAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
char AsciiUpper(char c) { return IsAsciiLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }

// A value for a message: quoted, non-printable bytes escaped, cut after 64 bytes. Only for
// values that are not personal data (catalogue values, currency codes).
std::string Quote(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < 64; ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') out += '\\';
    out += (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c))
                                   : Cat("\\x", kHex[c >> 4], kHex[c & 0xf]);
  }
  return out + (value.size() > 64 ? "\"..." : "\"");
}

// Offset of the first byte that does not begin a well-formed UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are malformed), or npos if there is none.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Sequence length, payload bits of the lead byte, smallest code point of that length.
    size_t length = 4;
    uint32_t code_point = lead & 0x07;
    uint32_t smallest = 0x10000;
    if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code_point = lead & 0x1f;
      smallest = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code_point = lead & 0x0f;
      smallest = 0x800;
    } else if ((lead & 0xf8) != 0xf0) {
      return i;
    }
    if (s.size() - i < length) return i;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) return i;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    if (code_point < smallest || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

absl::Status CheckMaxBytes(std::string_view value, std::string_view path, size_t max) {
  if (value.size() <= max) return absl::OkStatus();
  return Invalid(Cat(path, ": ", value.size(), " bytes, at most ", max, "; shorten it"));
}

// A required string: 1 to `max` bytes.
absl::Status CheckRequiredBytes(std::string_view value, std::string_view path, size_t max) {
  if (value.empty()) return Invalid(Cat(path, " is required: give it 1 to ", max, " bytes"));
  return CheckMaxBytes(value, path, max);
}

// An entry of a repeated string: 1 to `max` bytes.
absl::Status CheckEntryBytes(std::string_view value, std::string_view path, size_t max) {
  if (value.empty()) {
    return Invalid(Cat(path, " is empty; remove the entry or give it 1 to ", max, " bytes"));
  }
  return CheckMaxBytes(value, path, max);
}

absl::Status CheckCount(int count, std::string_view path, size_t max) {
  if (static_cast<size_t>(count) <= max) return absl::OkStatus();
  return Invalid(Cat(path, ": ", count, " entries, at most ", max, "; send fewer"));
}

// 1 to 128 printable ASCII characters, no spaces: event and catalogue item ids.
absl::Status CheckPrintableId(std::string_view id, std::string_view path) {
  if (id.empty()) {
    return Invalid(
        Cat(path, " is required: 1 to ", kMaxIdBytes, " printable ASCII characters, no spaces"));
  }
  RETURN_IF_INVALID(CheckMaxBytes(id, path, kMaxIdBytes));
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (c < 0x21 || c > 0x7e) {
      return Invalid(Cat(path, ": space, control or non-ASCII byte at offset ", i,
                         "; use printable ASCII without spaces"));
    }
  }
  return absl::OkStatus();
}

// `value` is a value `type` defines; 0 (the _UNSPECIFIED value) only if `allow_unspecified`.
absl::Status CheckEnum(int value, const EnumDescriptor* type, std::string_view path,
                       bool allow_unspecified) {
  if (type->FindValueByNumber(value) != nullptr && (value != 0 || allow_unspecified)) {
    return absl::OkStatus();
  }
  std::string choices;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    choices += Cat(choices.empty() ? "" : ", ", type->value(i)->name());
  }
  if (value == 0) {
    return Invalid(
        Cat(path, " is unset (", type->FindValueByNumber(0)->name(), "); set one of ", choices));
  }
  return Invalid(Cat(path, ": ", value, " is not a value of ", type->full_name(),
                     " this hub knows; use one of ", choices));
}

absl::Status CheckCurrency(std::string_view code, std::string_view path) {
  if (code.empty()) {
    return Invalid(Cat(path, " is required: an active ISO 4217 code such as \"EUR\""));
  }
  if (IsActiveCurrency(code)) return absl::OkStatus();
  std::string upper(code);
  std::transform(upper.begin(), upper.end(), upper.begin(), AsciiUpper);
  return Invalid(Cat(path, ": ", Quote(code), " is not an active ISO 4217 code (e.g. \"",
                     IsActiveCurrency(upper) ? upper : "EUR", "\")"));
}

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

// Field numbers of `type`, as ranges: "1-10", "1-4, 7".
std::string KnownFieldNumbers(const Descriptor* type) {
  std::vector<int> numbers;
  for (int i = 0; i < type->field_count(); ++i) numbers.push_back(type->field(i)->number());
  std::sort(numbers.begin(), numbers.end());
  std::string out;
  for (size_t i = 0, j = 0; i < numbers.size(); i = ++j) {
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    out += Cat(out.empty() ? "" : ", ", numbers[i]);
    if (j > i) out += Cat("-", numbers[j]);
  }
  return out.empty() ? "none" : out;
}

// Refuses fields the hub's contract does not define (sent by a newer publisher): the hub
// would store and forward them without being able to filter them by category.
absl::Status CheckOwnUnknownFields(const Message& message, std::string_view path) {
  const auto& unknown = message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return absl::OkStatus();
  const Descriptor* type = message.GetDescriptor();
  return Invalid(Cat(path, ": unknown field number ", unknown.field(0).number(),
                     "; the hub knows fields ", KnownFieldNumbers(type), " of ", type->full_name(),
                     "; publish with the hub's contract version"));
}

// Strings whose limit the contract states; any other string of a profile is bounded by
// EventLimits::max_string_bytes.
bool HasOwnLimit(const FieldDescriptor* f) {
  const Descriptor* type = f->containing_type();
  const int n = f->number();
  using P = v1::ProfileFields;
  if (type == P::descriptor()) {
    return n == P::kDisplayNameFieldNumber || n == P::kLocaleFieldNumber ||
           n == P::kCountryFieldNumber || n == P::kAgeBandFieldNumber ||
           n == P::kEmailFieldNumber || n == P::kPhoneFieldNumber ||
           n == P::kInterestTagsFieldNumber || n == P::kWishListFieldNumber;
  }
  if (type == v1::Enrolment::descriptor()) return n == v1::Enrolment::kItemIdFieldNumber;
  if (type == v1::Purchase::descriptor()) {
    return n == v1::Purchase::kItemIdFieldNumber || n == v1::Purchase::kCurrencyFieldNumber;
  }
  return type == v1::UserRef::descriptor();
}

struct GenericLimits {
  size_t max_repeated = kNoLimit;
  // For strings without a limit of their own (HasOwnLimit).
  size_t max_unlisted_string_bytes = kNoLimit;
};

absl::Status CheckGenerically(const Message& message, const std::string& path,
                              const GenericLimits& limits);

absl::Status CheckValue(const Message& message, const FieldDescriptor* f, int index,
                        const std::string& path, const GenericLimits& limits) {
  const Reflection* reflection = message.GetReflection();
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return CheckGenerically(index < 0 ? reflection->GetMessage(message, f)
                                      : reflection->GetRepeatedMessage(message, f, index),
                            path, limits);
  }
  if (f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) return absl::OkStatus();
  std::string scratch;
  const std::string& value =
      index < 0 ? reflection->GetStringReference(message, f, &scratch)
                : reflection->GetRepeatedStringReference(message, f, index, &scratch);
  if (f->type() == FieldDescriptor::TYPE_STRING) {
    if (size_t bad = FirstInvalidUtf8(value); bad != std::string_view::npos) {
      return Invalid(Cat(path, ": not valid UTF-8 (byte offset ", bad, "); encode it as UTF-8"));
    }
  }
  if (HasOwnLimit(f)) return absl::OkStatus();
  return CheckMaxBytes(value, path, limits.max_unlisted_string_bytes);
}

// Rules every field of `message` and of its sub-messages obeys, whatever it means: no
// unknown fields, strings in UTF-8 and within limits, repeated fields within limits.
absl::Status CheckGenerically(const Message& message, const std::string& path,
                              const GenericLimits& limits) {
  RETURN_IF_INVALID(CheckOwnUnknownFields(message, path));
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string field_path = Cat(path, ".", f->name());
    if (!f->is_repeated()) {
      RETURN_IF_INVALID(CheckValue(message, f, -1, field_path, limits));
      continue;
    }
    const int count = reflection->FieldSize(message, f);
    RETURN_IF_INVALID(CheckCount(count, field_path, limits.max_repeated));
    for (int i = 0; i < count; ++i) {
      RETURN_IF_INVALID(CheckValue(message, f, i, Indexed(field_path, i), limits));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCategories(const v1::ProfileChange& change, std::set<v1::DataCategory>* listed) {
  if (change.categories().empty()) {
    return Invalid(
        "profile.categories is empty; list the categories this change replaces, e.g. "
        "DATA_CATEGORY_PROFILE");
  }
  for (int i = 0; i < change.categories_size(); ++i) {
    const std::string path = Indexed("profile.categories", i);
    RETURN_IF_INVALID(CheckEnum(change.categories(i), v1::DataCategory_descriptor(), path, false));
    const auto category = static_cast<v1::DataCategory>(change.categories(i));
    if (!listed->insert(category).second) {
      return Invalid(Cat(path, ": ", v1::DataCategory_Name(category),
                         " is listed twice; list each category once"));
    }
  }
  return absl::OkStatus();
}

// Every set field must belong to a category the change replaces: a field set outside them
// is mis-categorised, and delivering it would bypass the consents of its own category.
absl::Status CheckFieldCategories(const v1::ProfileFields& fields,
                                  const std::set<v1::DataCategory>& listed) {
  std::vector<const FieldDescriptor*> set;
  fields.GetReflection()->ListFields(fields, &set);
  for (const FieldDescriptor* f : set) {
    const v1::DataCategory category = categories::Of(f);
    if (category == v1::DATA_CATEGORY_UNSPECIFIED) {
      return absl::InternalError(Cat("profile.fields.", f->name(),
                                     " declares no data category in the hub's contract, so the "
                                     "hub cannot filter it by consent; leave it unset"));
    }
    if (listed.count(category) == 0) {
      constexpr std::string_view kPrefix = "DATA_CATEGORY_";
      const std::string_view name = v1::DataCategory_Name(category);
      const std::string_view short_name =
          name.starts_with(kPrefix) ? name.substr(kPrefix.size()) : name;
      return Invalid(Cat("profile.fields.", f->name(), " is in category ", short_name,
                         ", which this change does not list in profile.categories; add ", name,
                         " or clear the field"));
    }
  }
  return absl::OkStatus();
}

bool IsEmailAddress(std::string_view email) {
  const size_t at = email.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < email.size() &&
         email.find('@', at + 1) == std::string_view::npos;
}

// E.164: '+' then 8 to 15 digits.
bool IsE164(std::string_view phone) {
  return phone.size() >= 9 && phone.size() <= 16 && phone[0] == '+' &&
         std::all_of(phone.begin() + 1, phone.end(), IsAsciiDigit);
}

absl::Status CheckEnrolment(const v1::Enrolment& e, const std::string& path) {
  RETURN_IF_INVALID(CheckRequiredBytes(e.item_id(), path + ".item_id", kMaxIdBytes));
  if (e.progress_permille() < 0 || e.progress_permille() > 1000) {
    return Invalid(path +
                   ".progress_permille: out of range; give progress from 0 to 1000 (per mille)");
  }
  if (e.seconds_spent() < 0) {
    return Invalid(path + ".seconds_spent: negative; give the seconds spent, 0 or more");
  }
  return absl::OkStatus();
}

absl::Status CheckPurchase(const v1::Purchase& p, const std::string& path) {
  RETURN_IF_INVALID(CheckRequiredBytes(p.item_id(), path + ".item_id", kMaxIdBytes));
  if (p.price_minor() < 0 || p.price_minor() > kMaxPriceMinor) {
    return Invalid(Cat(path,
                       ".price_minor: out of range; give the price in minor units of the "
                       "currency, 0 to ",
                       kMaxPriceMinor));
  }
  RETURN_IF_INVALID(CheckCurrency(p.currency(), path + ".currency"));
  if (p.purchased_at_micros() <= 0) {
    return Invalid(path +
                   ".purchased_at_micros: not set; give the order time in Unix microseconds");
  }
  return absl::OkStatus();
}

// The format of each personal-data field. Values are not echoed: they are personal data.
absl::Status CheckProfileFormats(const v1::ProfileFields& f) {
  RETURN_IF_INVALID(CheckMaxBytes(f.display_name(), "profile.fields.display_name", 200));
  if (!f.locale().empty() && !IsLanguageTag(f.locale())) {
    return Invalid(
        "profile.fields.locale is not a BCP 47 language tag; use one such as \"en\", \"de-AT\" or "
        "\"zh-Hans\"");
  }
  if (!f.country().empty() &&
      !(f.country().size() == 2 && IsAsciiUpper(f.country()[0]) && IsAsciiUpper(f.country()[1]))) {
    return Invalid(
        "profile.fields.country is not an ISO 3166-1 alpha-2 code; use two capital letters such "
        "as \"DE\"");
  }
  RETURN_IF_INVALID(CheckMaxBytes(f.age_band(), "profile.fields.age_band", 16));
  RETURN_IF_INVALID(CheckMaxBytes(f.email(), "profile.fields.email", 254));
  if (!f.email().empty() && !IsEmailAddress(f.email())) {
    return Invalid(
        "profile.fields.email is not an e-mail address: it needs exactly one '@' with text on "
        "both sides");
  }
  if (!f.phone().empty() && !IsE164(f.phone())) {
    return Invalid(
        "profile.fields.phone is not in E.164 form; write '+' and 8 to 15 digits, no spaces "
        "(e.g. \"+442071838750\")");
  }
  for (int i = 0; i < f.enrolments_size(); ++i) {
    RETURN_IF_INVALID(CheckEnrolment(f.enrolments(i), Indexed("profile.fields.enrolments", i)));
  }
  for (int i = 0; i < f.purchases_size(); ++i) {
    RETURN_IF_INVALID(CheckPurchase(f.purchases(i), Indexed("profile.fields.purchases", i)));
  }
  for (int i = 0; i < f.interest_tags_size(); ++i) {
    RETURN_IF_INVALID(
        CheckEntryBytes(f.interest_tags(i), Indexed("profile.fields.interest_tags", i), 128));
  }
  for (int i = 0; i < f.wish_list_size(); ++i) {
    RETURN_IF_INVALID(CheckEntryBytes(f.wish_list(i), Indexed("profile.fields.wish_list", i), 128));
  }
  return absl::OkStatus();
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

absl::Status ValidateEventId(std::string_view id) { return CheckPrintableId(id, "event_id"); }

absl::Status ValidateEvent(const v1::PublishEvent& event, const EventLimits& limits) {
  RETURN_IF_INVALID(ValidateEventId(event.event_id()));
  RETURN_IF_INVALID(CheckOwnUnknownFields(event, "event"));
  switch (event.payload_case()) {
    case v1::PublishEvent::kProfile:
      return ValidateProfileChange(event.profile(), limits);
    case v1::PublishEvent::kCatalogue:
      return ValidateCatalogueChange(event.catalogue(), limits);
    case v1::PublishEvent::PAYLOAD_NOT_SET:
      break;
  }
  return Invalid("event has no payload: set profile or catalogue");
}

absl::Status ValidateProfileChange(const v1::ProfileChange& change, const EventLimits& limits) {
  RETURN_IF_INVALID(
      CheckGenerically(change, "profile", {limits.max_repeated, limits.max_string_bytes}));
  RETURN_IF_INVALID(
      ids::ValidateLocalUserId(change.user().local_user_id(), "profile.user.local_user_id"));
  std::set<v1::DataCategory> listed;
  RETURN_IF_INVALID(CheckCategories(change, &listed));
  if (change.version() <= 0) {
    return Invalid(
        "profile.version is not positive; give the profile's version, growing with each change "
        "(a counter or a timestamp)");
  }
  RETURN_IF_INVALID(CheckFieldCategories(change.fields(), listed));
  RETURN_IF_INVALID(CheckProfileFormats(change.fields()));
  if (const size_t bytes = change.fields().ByteSizeLong(); bytes > limits.max_profile_bytes) {
    return Invalid(Cat("profile.fields: ", bytes, " bytes serialized, at most ",
                       limits.max_profile_bytes, "; send fewer or shorter entries"));
  }
  return absl::OkStatus();
}

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
