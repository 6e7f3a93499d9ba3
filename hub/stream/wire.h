// Protocol Buffers wire format, by hand, for the one hot path that needs it: delivering
// profile changes. A change is published once and delivered to every subscriber narrowed to
// the categories its consents allow; instead of copying, narrowing and re-serialising a
// message per subscriber, the hub splits the change's fields by category once, as bytes,
// and a delivery concatenates the allowed parts (fields of distinct numbers may come in any
// order on the wire, and each field belongs to one category).
//
// Thread-safety: stateless functions; a WireWriter is used by one thread.
#ifndef FEDHUB_HUB_STREAM_WIRE_H_
#define FEDHUB_HUB_STREAM_WIRE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace fedhub::stream {

// Appends wire-format fields to a string.
class WireWriter {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}
  void Varint(uint64_t v);
  void Tag(int field, int wire_type) { Varint((static_cast<uint64_t>(field) << 3) | wire_type); }
  // A varint field (int64, uint64, enum, bool); zero is not written (proto3 default).
  void VarintField(int field, uint64_t v) {
    if (v == 0) return;
    Tag(field, 0);
    Varint(v);
  }
  // A length-delimited field (string, bytes, message); empty strings are not written.
  void BytesField(int field, std::string_view bytes) {
    if (bytes.empty()) return;
    LengthDelimited(field, bytes);
  }
  // A length-delimited field, written even when empty (a present sub-message).
  void LengthDelimited(int field, std::string_view bytes) {
    Tag(field, 2);
    Varint(bytes.size());
    out_->append(bytes);
  }
  std::string* out() { return out_; }

 private:
  std::string* out_;
};

// Bytes of a varint.
size_t VarintSize(uint64_t v);

// The payload of the last occurrence of length-delimited field `field` in `message`; empty
// if absent. DATA_LOSS if `message` is not well-formed wire format.
absl::StatusOr<std::string_view> SubField(std::string_view message, int field);

// Categories 0 (none declared) to 5, indexed by DataCategory value.
constexpr int kCategorySlots = 6;
using CategoryParts = std::array<std::string, kCategorySlots>;

// Splits the wire bytes of a ProfileFields message by the category each field declares
// (read from proto/ through core/categories.h). A field number ProfileFields does not
// declare goes to slot 0.
absl::Status SplitProfileFields(std::string_view fields, CategoryParts* parts);

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_WIRE_H_
