// The fast pass of CheckGenerically: the message is serialized once and its wire bytes are
// walked against a plan built once per message type, instead of visiting every field
// through reflection. It answers only "certainly valid"; anything it cannot vouch for
// (unknown field numbers, unexpected wire types, too deep, too many fields) sends the
// caller to the reflective check, which names the problem. So it may refuse valid input,
// never accept invalid input.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stream/validate.h"
#include "stream/validate_internal.h"

namespace fedhub::stream::validate_internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Fields per message type the pass counts repeated entries for; larger types go the
// reflective way.
constexpr int kMaxPlannedFields = 64;
constexpr int kMaxDepth = 32;

enum class Kind : uint8_t { kVarint, kFixed32, kFixed64, kString, kBytes, kMessage };

struct FieldPlan {
  int number = 0;
  int index = 0;  // position among the type's fields, for counting
  Kind kind = Kind::kVarint;
  bool repeated = false;
  bool own_limit = false;
  const struct TypePlan* type = nullptr;  // kMessage
};

struct TypePlan {
  std::vector<FieldPlan> fields;  // by number
  int field_count = 0;
  const FieldPlan* Find(int number) const {
    for (const FieldPlan& f : fields) {
      if (f.number == number) return &f;
    }
    return nullptr;
  }
};

Kind KindOf(const FieldDescriptor* f) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_FLOAT:
      return Kind::kFixed32;
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_DOUBLE:
      return Kind::kFixed64;
    case FieldDescriptor::TYPE_STRING:
      return Kind::kString;
    case FieldDescriptor::TYPE_BYTES:
      return Kind::kBytes;
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      return Kind::kMessage;
    default:
      return Kind::kVarint;
  }
}

// Plans, built on first use and kept for the process's life (types are static).
class Plans {
 public:
  const TypePlan* For(const Descriptor* type) {
    std::lock_guard lock(mu_);
    return BuildLocked(type);
  }

 private:
  const TypePlan* BuildLocked(const Descriptor* type) {
    if (auto it = plans_.find(type); it != plans_.end()) return it->second.get();
    auto plan = std::make_unique<TypePlan>();
    TypePlan* raw = plan.get();
    plans_.emplace(type, std::move(plan));  // before recursing: types may nest themselves
    raw->field_count = type->field_count();
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* f = type->field(i);
      FieldPlan p;
      p.number = f->number();
      p.index = i;
      p.kind = KindOf(f);
      p.repeated = f->is_repeated();
      p.own_limit = HasOwnStringLimit(f);
      if (p.kind == Kind::kMessage) p.type = BuildLocked(f->message_type());
      raw->fields.push_back(p);
    }
    return raw;
  }
  std::mutex mu_;
  std::unordered_map<const Descriptor*, std::unique_ptr<TypePlan>> plans_;
};

Plans& AllPlans() {
  static Plans* plans = new Plans;
  return *plans;
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }
  bool Varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      out |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        *v = out;
        return true;
      }
    }
    return false;
  }
  bool Skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n = 0;
    if (!Varint(&n) || static_cast<uint64_t>(end_ - p_) < n) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// Entries in a packed run of `kind` values.
bool PackedCount(std::string_view run, Kind kind, uint64_t* count) {
  switch (kind) {
    case Kind::kFixed32:
      *count = run.size() / 4;
      return run.size() % 4 == 0;
    case Kind::kFixed64:
      *count = run.size() / 8;
      return run.size() % 8 == 0;
    case Kind::kVarint: {
      uint64_t n = 0;
      for (char c : run) n += (static_cast<uint8_t>(c) & 0x80) == 0;
      *count = n;
      return run.empty() || (static_cast<uint8_t>(run.back()) & 0x80) == 0;
    }
    default:
      return false;
  }
}

bool Walk(std::string_view bytes, const TypePlan& plan, const GenericLimits& limits, int depth) {
  if (depth > kMaxDepth || plan.field_count > kMaxPlannedFields) return false;
  std::array<uint64_t, kMaxPlannedFields> counts{};
  Reader r(bytes);
  while (!r.done()) {
    uint64_t tag = 0;
    if (!r.Varint(&tag)) return false;
    const FieldPlan* f = plan.Find(static_cast<int>(tag >> 3));
    if (f == nullptr) return false;  // unknown field: the reflective check names it
    const uint32_t wire = tag & 7;
    uint64_t entries = 1;
    if (wire == 2) {
      std::string_view value;
      if (!r.Bytes(&value)) return false;
      switch (f->kind) {
        case Kind::kString:
          if (FirstInvalidUtf8(value) != std::string_view::npos) return false;
          [[fallthrough]];
        case Kind::kBytes:
          if (!f->own_limit && value.size() > limits.max_unlisted_string_bytes) return false;
          break;
        case Kind::kMessage:
          if (!Walk(value, *f->type, limits, depth + 1)) return false;
          break;
        default:
          if (!f->repeated || !PackedCount(value, f->kind, &entries)) return false;
      }
    } else if (wire == 0 && f->kind == Kind::kVarint) {
      uint64_t ignored;
      if (!r.Varint(&ignored)) return false;
    } else if (wire == 5 && f->kind == Kind::kFixed32) {
      if (!r.Skip(4)) return false;
    } else if (wire == 1 && f->kind == Kind::kFixed64) {
      if (!r.Skip(8)) return false;
    } else {
      return false;
    }
    if (f->repeated && (counts[f->index] += entries) > limits.max_repeated) return false;
  }
  return true;
}

}  // namespace

bool CertainlyPassesGenericChecks(const google::protobuf::Message& message, const GenericLimits& limits,
                                  std::string* bytes) {
  const TypePlan* plan = AllPlans().For(message.GetDescriptor());
  std::string scratch;
  std::string& out = bytes != nullptr ? *bytes : scratch;
  out = DeterministicBytes(message);
  return Walk(out, *plan, limits, 0);
}

}  // namespace fedhub::stream::validate_internal

namespace fedhub::stream {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  // Sized first and written in place, as SerializeToString does.
  const size_t size = message.ByteSizeLong();
  std::string out(size, '\0');
  google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(size));
  google::protobuf::io::CodedOutputStream cos(&array);
  cos.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&cos);
  return out;
}

}  // namespace fedhub::stream
