#include "stream/wire.h"

#include <vector>

#include "core/categories.h"
#include "core/strings.h"
#include "fedhub/v1/profile.pb.h"

namespace fedhub::stream {
namespace {

// DataCategory of each ProfileFields field number, from the declarations in proto/.
const std::vector<int>& ProfileFieldCategories() {
  static const std::vector<int> table = [] {
    std::vector<int> t;
    for (const auto& [field, category] : categories::Declared(fedhub::v1::ProfileFields::descriptor())) {
      if (t.size() <= static_cast<size_t>(field->number())) t.resize(field->number() + 1, 0);
      t[field->number()] = static_cast<int>(category);
    }
    return t;
  }();
  return table;
}

}  // namespace

int ProfileFieldCategory(int number) {
  const std::vector<int>& table = ProfileFieldCategories();
  const int category = number >= 0 && static_cast<size_t>(number) < table.size() ? table[number] : 0;
  return category >= 0 && category < kCategorySlots ? category : 0;
}

void WireWriter::Varint(uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out_->append(buf, n);
}

absl::StatusOr<std::string_view> SubField(std::string_view message, int field) {
  WireReader r(message);
  std::string_view found;
  while (!r.done()) {
    int number, wire_type;
    std::string_view payload;
    if (!r.Field(&number, &wire_type, &payload)) {
      return absl::DataLossError(Cat("malformed wire format near byte ", r.pos()));
    }
    if (number == field && wire_type == 2) found = payload;
  }
  return found;
}

absl::StatusOr<std::string> StoredProfileEventBytes(std::string_view head, std::string_view change) {
  // StoredEvent.profile is field 5; ProfileChange.user is field 1, first in number order.
  constexpr int kStoredProfile = 5, kUser = 1;
  WireReader r(change);
  size_t kept_from = 0;
  while (!r.done()) {
    int number, wire_type;
    std::string_view payload;
    if (!r.Field(&number, &wire_type, &payload)) {
      return absl::DataLossError(Cat("malformed profile change near byte ", r.pos()));
    }
    if (number != kUser) break;
    kept_from = r.pos();
  }
  const std::string_view kept = change.substr(kept_from);
  std::string out;
  out.reserve(head.size() + 1 + VarintSize(kept.size()) + kept.size());
  out.append(head);
  WireWriter(&out).LengthDelimited(kStoredProfile, kept);
  return out;
}

absl::Status SplitProfileFields(std::string_view fields, CategoryParts* parts) {
  WireReader r(fields);
  while (!r.done()) {
    size_t start = r.pos();
    int number, wire_type;
    std::string_view payload;
    if (!r.Field(&number, &wire_type, &payload)) {
      return absl::DataLossError(Cat("malformed profile fields near byte ", r.pos()));
    }
    (*parts)[ProfileFieldCategory(number)].append(fields.substr(start, r.pos() - start));
  }
  return absl::OkStatus();
}

}  // namespace fedhub::stream
