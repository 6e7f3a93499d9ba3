#include "consent/consent_index.h"

#include <array>
#include <ctime>
#include <functional>
#include <mutex>

#include "core/strings.h"

namespace fedhub::consent {
namespace {

uint32_t Bits(const google::protobuf::RepeatedField<int32_t>& values) {
  uint32_t bits = 0;
  for (int v : values) {
    if (v > 0 && v < 32) bits |= 1u << v;
  }
  return bits;
}

}  // namespace

std::string FormatMicros(int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ConsentIndex::Shard& ConsentIndex::ShardFor(const std::string& subject) {
  return shards_[std::hash<std::string>{}(subject) % kShards];
}
const ConsentIndex::Shard& ConsentIndex::ShardFor(const std::string& subject) const {
  return shards_[std::hash<std::string>{}(subject) % kShards];
}

absl::Status ConsentIndex::Load(const storage::Store& store) {
  absl::Status bad;
  absl::Status s = store.Scan(storage::Cf::kConsents, "", "",
                              [&](std::string_view key, std::string_view value) {
                                fedhub::storage::v1::ConsentRecord rec;
                                if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                  bad = absl::DataLossError(Cat("consent record ", key, " does not parse"));
                                  return false;
                                }
                                Upsert(rec);
                                return true;
                              });
  return s.ok() ? bad : s;
}

void ConsentIndex::Upsert(const fedhub::storage::v1::ConsentRecord& r) {
  Entry e{std::make_shared<const std::string>(r.consent_id()), r.source_platform_id(), r.target_platform_id(), Bits(r.categories()),
          Bits(r.purposes()), r.expires_at_micros(), r.revoked_at_micros()};
  std::unique_lock<std::shared_mutex> gate;
  if (r.revoked_at_micros() != 0) gate = std::unique_lock<std::shared_mutex>(gate_);
  Shard& shard = ShardFor(r.subject());
  std::unique_lock lock(shard.mu);
  if (gate.owns_lock()) revocations_.fetch_add(1, std::memory_order_acq_rel);
  auto& list = shard.by_subject[r.subject()];
  for (Entry& existing : list) {
    if (*existing.consent_id == *e.consent_id) {
      existing = std::move(e);
      return;
    }
  }
  list.push_back(std::move(e));
}

Decision ConsentIndex::Check(const std::string& subject, const std::string& source,
                             const std::string& target, fedhub::v1::DataCategory category,
                             fedhub::v1::Purpose purpose, int64_t now) const {
  Decision d;
  const uint32_t cat_bit = 1u << static_cast<int>(category);
  const uint32_t purpose_bit = 1u << static_cast<int>(purpose);
  const Entry* expired = nullptr;
  const Entry* revoked = nullptr;
  const Shard& shard = ShardFor(subject);
  std::shared_lock lock(shard.mu);
  auto it = shard.by_subject.find(subject);
  if (it != shard.by_subject.end()) {
    for (const Entry& e : it->second) {
      if (e.source != source || !(e.target.empty() || e.target == target)) continue;
      if (!(e.categories & cat_bit) || !(e.purposes & purpose_bit)) continue;
      if (e.revoked_at_micros != 0) {
        revoked = &e;
        continue;
      }
      if (e.expires_at_micros <= now) {
        expired = &e;
        continue;
      }
      if (!d.allowed || e.expires_at_micros > d.expires_at_micros) {
        d.allowed = true;
        d.consent_id = *e.consent_id;
        d.expires_at_micros = e.expires_at_micros;
      }
    }
  }
  if (d.allowed) return d;
  if (revoked != nullptr) {
    d.consent_id = *revoked->consent_id;
    d.reason = Cat("consent ", *revoked->consent_id, " was revoked at ",
                   FormatMicros(revoked->revoked_at_micros),
                   "; the person must grant consent again");
  } else if (expired != nullptr) {
    d.consent_id = *expired->consent_id;
    d.reason = Cat("consent ", *expired->consent_id, " expired at ",
                   FormatMicros(expired->expires_at_micros), "; ask the person to grant it again");
  } else {
    d.reason = Cat("no consent covers ", fedhub::v1::DataCategory_Name(category), " from ", source,
                   " to ", target, " for ", fedhub::v1::Purpose_Name(purpose));
  }
  return d;
}

uint32_t ConsentIndex::Allowed(const std::string& subject, const std::string& source,
                               const std::string& target, uint32_t categories,
                               fedhub::v1::Purpose purpose, int64_t now,
                               std::vector<Grant>* out) const {
  const uint32_t purpose_bit = 1u << static_cast<int>(purpose);
  // Per category, the allowed consent that runs longest (as Check names it).
  std::array<const Entry*, 32> best{};
  uint32_t allowed = 0;
  const Shard& shard = ShardFor(subject);
  std::shared_lock lock(shard.mu);
  auto it = shard.by_subject.find(subject);
  if (it == shard.by_subject.end()) return 0;
  for (const Entry& e : it->second) {
    if (e.source != source || !(e.target.empty() || e.target == target)) continue;
    if (!(e.purposes & purpose_bit) || e.revoked_at_micros != 0 || e.expires_at_micros <= now) continue;
    for (uint32_t bits = e.categories & categories; bits != 0; bits &= bits - 1) {
      int c = __builtin_ctz(bits);
      if (best[c] == nullptr || e.expires_at_micros > best[c]->expires_at_micros) best[c] = &e;
      allowed |= 1u << c;
    }
  }
  const size_t first = out->size();
  for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) {
    int c = __builtin_ctz(bits);
    Grant* g = nullptr;
    for (size_t i = first; i < out->size(); ++i) {
      if ((*out)[i].consent_id == best[c]->consent_id) g = &(*out)[i];
    }
    if (g == nullptr) {
      g = &out->emplace_back();
      g->consent_id = best[c]->consent_id;
      g->expires_at_micros = best[c]->expires_at_micros;
    }
    g->categories |= 1u << c;
  }
  return allowed;
}

size_t ConsentIndex::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mu);
    for (const auto& [_, list] : s.by_subject) n += list.size();
  }
  return n;
}

}  // namespace fedhub::consent
