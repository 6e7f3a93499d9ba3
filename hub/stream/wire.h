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
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace fedhub::stream {

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

// Bytes of a varint.
inline size_t VarintSize(uint64_t v) { return 1 + (63 - __builtin_clzll(v | 1)) / 7; }

// Wire-format output, written by WireWriter (to a string) or measured by WireSizer (which
// only counts bytes), so one function can first size a message and then write it: nested
// messages are written in place after their length instead of built apart and copied.
template <class Sink>
class WireOut {
 public:
  void Tag(int field, int wire_type) { self().Varint((static_cast<uint64_t>(field) << 3) | wire_type); }
  // A varint field (int64, uint64, enum, bool); zero is not written (proto3 default).
  void VarintField(int field, uint64_t v) {
    if (v == 0) return;
    Tag(field, 0);
    self().Varint(v);
  }
  // A length-delimited field (string, bytes, message); empty strings are not written.
  void BytesField(int field, std::string_view bytes) {
    if (bytes.empty()) return;
    LengthDelimited(field, bytes);
  }
  // A length-delimited field, written even when empty (a present sub-message).
  void LengthDelimited(int field, std::string_view bytes) {
    Header(field, bytes.size());
    self().Raw(bytes);
  }
  // The tag and length of a length-delimited field whose `size` bytes follow.
  void Header(int field, size_t size) {
    Tag(field, 2);
    self().Varint(size);
  }

 private:
  Sink& self() { return static_cast<Sink&>(*this); }
};

// Appends wire-format fields to a string.
class WireWriter : public WireOut<WireWriter> {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}
  void Varint(uint64_t v);
  void Raw(std::string_view bytes) { out_->append(bytes); }
  std::string* out() { return out_; }

 private:
  std::string* out_;
};

// Writes wire-format fields into memory already sized for them (by a WireSizer): no
// capacity checks on the way. The caller guarantees the room.
class WireSpanWriter : public WireOut<WireSpanWriter> {
 public:
  explicit WireSpanWriter(char* out) : p_(out) {}
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void Raw(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(p_, bytes.data(), bytes.size());
    p_ += bytes.size();
  }
  char* position() const { return p_; }

 private:
  char* p_;
};

// Counts the bytes a WireWriter would append.
class WireSizer : public WireOut<WireSizer> {
 public:
  void Varint(uint64_t v) { size_ += VarintSize(v); }
  void Raw(std::string_view bytes) { size_ += bytes.size(); }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

// The payload of the last occurrence of length-delimited field `field` in `message`; empty
// if absent. DATA_LOSS if `message` is not well-formed wire format.
absl::StatusOr<std::string_view> SubField(std::string_view message, int field);

// The wire bytes of a StoredEvent holding a profile change, from `head` (the StoredEvent
// serialised without its payload: fields 1-4) and `change` (the ProfileChange's
// deterministic wire bytes, fields in number order). The change's user (field 1) is left
// out: the publisher's local id is not stored. The result is what serialising the
// StoredEvent with the change minus its user gives. DATA_LOSS if `change` is malformed.
absl::StatusOr<std::string> StoredProfileEventBytes(std::string_view head, std::string_view change);

// Categories 0 (none declared) to 5, indexed by DataCategory value.
constexpr int kCategorySlots = 6;
using CategoryParts = std::array<std::string, kCategorySlots>;

// The DataCategory (slot) a ProfileFields field number declares; 0 if none or unknown.
int ProfileFieldCategory(int number);

// Splits the wire bytes of a ProfileFields message by the category each field declares
// (read from proto/ through core/categories.h). A field number ProfileFields does not
// declare goes to slot 0.
absl::Status SplitProfileFields(std::string_view fields, CategoryParts* parts);

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_WIRE_H_
