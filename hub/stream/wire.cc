#include "stream/wire.h"

#include <vector>

#include "core/categories.h"
#include "core/strings.h"
#include "fedhub/v1/profile.pb.h"

namespace fedhub::stream {
namespace {

// Reads wire-format fields one at a time.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  size_t pos() const { return pos_; }

  bool Varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = out;
        return true;
      }
    }
    return false;
  }

  // Reads the next field: its number and wire type, and the span of its payload (for a
  // length-delimited field, without the length).
  bool Field(int* number, int* wire_type, std::string_view* payload) {
    uint64_t tag;
    if (!Varint(&tag) || (tag >> 3) == 0 || (tag >> 3) > 536870911) return false;
    *number = static_cast<int>(tag >> 3);
    *wire_type = static_cast<int>(tag & 7);
    size_t start = pos_;
    switch (*wire_type) {
      case 0: {
        uint64_t ignored;
        if (!Varint(&ignored)) return false;
        *payload = data_.substr(start, pos_ - start);
        return true;
      }
      case 1:
        return Skip(8, start, payload);
      case 5:
        return Skip(4, start, payload);
      case 2: {
        uint64_t len;
        if (!Varint(&len) || len > data_.size() - pos_) return false;
        *payload = data_.substr(pos_, len);
        pos_ += len;
        return true;
      }
      default:  // groups are not used by FedHub's messages
        return false;
    }
  }

 private:
  bool Skip(size_t n, size_t start, std::string_view* payload) {
    if (n > data_.size() - pos_) return false;
    pos_ += n;
    *payload = data_.substr(start, n);
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

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
  const std::vector<int>& table = ProfileFieldCategories();
  WireReader r(fields);
  while (!r.done()) {
    size_t start = r.pos();
    int number, wire_type;
    std::string_view payload;
    if (!r.Field(&number, &wire_type, &payload)) {
      return absl::DataLossError(Cat("malformed profile fields near byte ", r.pos()));
    }
    int category = static_cast<size_t>(number) < table.size() ? table[number] : 0;
    if (category < 0 || category >= kCategorySlots) category = 0;
    (*parts)[category].append(fields.substr(start, r.pos() - start));
  }
  return absl::OkStatus();
}

}  // namespace fedhub::stream
