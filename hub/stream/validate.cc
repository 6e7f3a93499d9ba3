// The stream validation rules (declared in validate.h) for events and profile changes, and
// the helpers they share with the catalogue rules (validate_internal.h). The catalogue rules
// (items, removals, tags and language tags, sharing policies, filters, matching) are in
// catalogue_rules.cc.
#include "stream/validate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/strings.h"
#include "identity/ids.h"
#include "stream/validate_internal.h"
#include "stream/wire.h"

namespace fedhub::stream {

namespace v1 = ::fedhub::v1;
using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using validate_internal::AsciiUpper;
using validate_internal::CheckCount;
using validate_internal::CheckCurrency;
using validate_internal::CheckEntryBytes;
using validate_internal::CheckEnum;
using validate_internal::CheckGenerically;
using validate_internal::CheckMaxBytes;
using validate_internal::CheckOwnUnknownFields;
using validate_internal::CheckPrintableId;
using validate_internal::FirstInvalidUtf8;
using validate_internal::HasOwnStringLimit;
using validate_internal::CheckRequiredBytes;
using validate_internal::GenericLimits;
using validate_internal::CheckEach;
using validate_internal::Indexed;
using validate_internal::Invalid;
using validate_internal::IsAsciiDigit;
using validate_internal::IsAsciiUpper;
using validate_internal::kMaxIdBytes;
using validate_internal::kMaxPriceMinor;
using validate_internal::Quote;

namespace validate_internal {

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

bool HasOwnStringLimit(const FieldDescriptor* f) {
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

}  // namespace validate_internal

namespace {

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


absl::Status CheckValue(const Message& message, const FieldDescriptor* f, int index, const std::string& path,
                        const GenericLimits& limits) {
  const Reflection* reflection = message.GetReflection();
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return CheckGenericallyByReflection(index < 0 ? reflection->GetMessage(message, f)
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
  if (HasOwnStringLimit(f)) return absl::OkStatus();
  return CheckMaxBytes(value, path, limits.max_unlisted_string_bytes);
}

// Sets bit c of `*listed` for each category c the change lists.
absl::Status CheckCategories(const v1::ProfileChange& change, uint32_t* listed) {
  if (change.categories().empty()) {
    return Invalid(
        "profile.categories is empty; list the categories this change replaces, e.g. "
        "DATA_CATEGORY_PROFILE");
  }
  const EnumDescriptor* type = v1::DataCategory_descriptor();
  for (int i = 0; i < change.categories_size(); ++i) {
    const int value = change.categories(i);
    // The path is built only to name a bad entry.
    if (!CheckEnum(value, type, {}, false).ok()) {
      return CheckEnum(value, type, Indexed("profile.categories", i), false);
    }
    const auto category = static_cast<v1::DataCategory>(value);
    const uint32_t bit = 1u << value;  // a known DataCategory: below 32
    if ((*listed & bit) != 0) {
      return Invalid(Cat(Indexed("profile.categories", i), ": ", v1::DataCategory_Name(category),
                         " is listed twice; list each category once"));
    }
    *listed |= bit;
  }
  return absl::OkStatus();
}

// Every set field must belong to a category the change replaces: a field set outside them
// is mis-categorised, and delivering it would bypass the consents of its own category.
absl::Status CheckFieldCategories(std::string_view fields, uint32_t listed) {
  WireReader r(fields);  // serialised by protobuf: fields in number order
  while (!r.done()) {
    int number, wire_type;
    std::string_view payload;
    if (!r.Field(&number, &wire_type, &payload)) {
      return absl::InternalError(Cat("profile.fields does not parse near byte ", r.pos()));
    }
    const int category = ProfileFieldCategory(number);
    if (category != 0 && (listed & (1u << category)) != 0) continue;
    const FieldDescriptor* f = v1::ProfileFields::descriptor()->FindFieldByNumber(number);
    const std::string field = f != nullptr ? f->name() : Cat("field ", number);
    if (category == 0) {
      return absl::InternalError(Cat("profile.fields.", field,
                                     " declares no data category in the hub's contract, so the "
                                     "hub cannot filter it by consent; leave it unset"));
    }
    constexpr std::string_view kPrefix = "DATA_CATEGORY_";
    const std::string_view name = v1::DataCategory_Name(static_cast<v1::DataCategory>(category));
    const std::string_view short_name = name.starts_with(kPrefix) ? name.substr(kPrefix.size()) : name;
    return Invalid(Cat("profile.fields.", field, " is in category ", short_name,
                       ", which this change does not list in profile.categories; add ", name,
                       " or clear the field"));
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
  RETURN_IF_INVALID(CheckEach(f.enrolments_size(), "profile.fields.enrolments",
                              [&](int i, const std::string& path) { return CheckEnrolment(f.enrolments(i), path); }));
  RETURN_IF_INVALID(CheckEach(f.purchases_size(), "profile.fields.purchases",
                              [&](int i, const std::string& path) { return CheckPurchase(f.purchases(i), path); }));
  RETURN_IF_INVALID(CheckEach(f.interest_tags_size(), "profile.fields.interest_tags", [&](int i, const std::string& path) {
    return CheckEntryBytes(f.interest_tags(i), path, 128);
  }));
  return CheckEach(f.wish_list_size(), "profile.fields.wish_list",
                   [&](int i, const std::string& path) { return CheckEntryBytes(f.wish_list(i), path, 128); });
}

}  // namespace

namespace validate_internal {

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

absl::Status CheckMaxBytes(std::string_view value, std::string_view path, size_t max) {
  if (value.size() <= max) return absl::OkStatus();
  return Invalid(Cat(path, ": ", value.size(), " bytes, at most ", max, "; shorten it"));
}

absl::Status CheckRequiredBytes(std::string_view value, std::string_view path, size_t max) {
  if (value.empty()) return Invalid(Cat(path, " is required: give it 1 to ", max, " bytes"));
  return CheckMaxBytes(value, path, max);
}

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

absl::Status CheckOwnUnknownFields(const Message& message, std::string_view path) {
  const auto& unknown = message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return absl::OkStatus();
  const Descriptor* type = message.GetDescriptor();
  return Invalid(Cat(path, ": unknown field number ", unknown.field(0).number(),
                     "; the hub knows fields ", KnownFieldNumbers(type), " of ", type->full_name(),
                     "; publish with the hub's contract version"));
}

absl::Status CheckGenericallyByReflection(const Message& message, const std::string& path, const GenericLimits& limits) {
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
    for (int i = 0; i < count; ++i) RETURN_IF_INVALID(CheckValue(message, f, i, Indexed(field_path, i), limits));
  }
  return absl::OkStatus();
}

// Valid input, the common case, is checked on its wire bytes (validate_wire.cc); only when
// that pass cannot vouch for it are the fields visited through reflection, naming the field.
absl::Status CheckGenerically(const Message& message, const std::string& path,
                              const GenericLimits& limits, std::string* bytes) {
  if (CertainlyPassesGenericChecks(message, limits, bytes)) return absl::OkStatus();
  return CheckGenericallyByReflection(message, path, limits);
}

}  // namespace validate_internal

absl::Status ValidateEventId(std::string_view id) { return CheckPrintableId(id, "event_id"); }

absl::Status ValidateEvent(const v1::PublishEvent& event, const EventLimits& limits,
                           std::string* profile_bytes) {
  RETURN_IF_INVALID(ValidateEventId(event.event_id()));
  RETURN_IF_INVALID(CheckOwnUnknownFields(event, "event"));
  switch (event.payload_case()) {
    case v1::PublishEvent::kProfile:
      return ValidateProfileChange(event.profile(), limits, profile_bytes);
    case v1::PublishEvent::kCatalogue:
      return ValidateCatalogueChange(event.catalogue(), limits);
    case v1::PublishEvent::PAYLOAD_NOT_SET:
      break;
  }
  return Invalid("event has no payload: set profile or catalogue");
}

absl::Status ValidateProfileChange(const v1::ProfileChange& change, const EventLimits& limits,
                                   std::string* bytes) {
  std::string scratch;
  std::string& wire = bytes != nullptr ? *bytes : scratch;
  RETURN_IF_INVALID(
      CheckGenerically(change, "profile", {limits.max_repeated, limits.max_string_bytes}, &wire));
  RETURN_IF_INVALID(
      ids::ValidateLocalUserId(change.user().local_user_id(), "profile.user.local_user_id"));
  uint32_t listed = 0;
  RETURN_IF_INVALID(CheckCategories(change, &listed));
  if (change.version() <= 0) {
    return Invalid(
        "profile.version is not positive; give the profile's version, growing with each change "
        "(a counter or a timestamp)");
  }
  // ProfileChange.fields is field 3 of the change's wire bytes.
  auto fields = SubField(wire, 3);
  if (!fields.ok()) return absl::InternalError(Cat("profile does not parse: ", fields.status().message()));
  RETURN_IF_INVALID(CheckFieldCategories(*fields, listed));
  RETURN_IF_INVALID(CheckProfileFormats(change.fields()));
  if (fields->size() > limits.max_profile_bytes) {
    return Invalid(Cat("profile.fields: ", fields->size(), " bytes serialized, at most ",
                       limits.max_profile_bytes, "; send fewer or shorter entries"));
  }
  return absl::OkStatus();
}

}  // namespace fedhub::stream

#undef RETURN_IF_INVALID
