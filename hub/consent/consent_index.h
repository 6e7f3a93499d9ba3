// The current state of every consent, in memory, so CheckConsent is a hash lookup and a
// short scan of one person's consents. RocksDB stays the truth: the index is loaded from
// it at start and updated only after a change is durable.
//
// Thread-safety: thread-safe; sharded by subject so checks rarely contend.
#ifndef FEDHUB_HUB_CONSENT_CONSENT_INDEX_H_
#define FEDHUB_HUB_CONSENT_CONSENT_INDEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "fedhub/storage/v1/records.pb.h"
#include "fedhub/v1/common.pb.h"
#include "storage/store.h"

namespace fedhub::consent {

struct Decision {
  bool allowed = false;
  std::string consent_id;
  int64_t expires_at_micros = 0;
  std::string reason;
};

class ConsentIndex {
 public:
  absl::Status Load(const storage::Store& store);
  void Upsert(const fedhub::storage::v1::ConsentRecord& record);

  // May data of `category` about `subject` flow from `source` to `target` for `purpose`
  // at `now`? Allowed if an unrevoked, unexpired consent of the subject from `source` to
  // `target` (or to any member) covers both; the one that runs longest is named.
  Decision Check(const std::string& subject, const std::string& source, const std::string& target,
                 fedhub::v1::DataCategory category, fedhub::v1::Purpose purpose,
                 int64_t now_micros) const;

  // The consents under which data of `categories` (a bit per DataCategory value) may flow:
  // for each category, the same consent Check would name, grouped by consent. One lookup
  // for all of an event's categories.
  struct Grant {
    uint32_t categories = 0;
    std::shared_ptr<const std::string> consent_id;
    int64_t expires_at_micros = 0;
  };
  // Appends to `out` (at most one Grant per consent) and returns the categories allowed.
  uint32_t Allowed(const std::string& subject, const std::string& source, const std::string& target,
                   uint32_t categories, fedhub::v1::Purpose purpose, int64_t now_micros,
                   std::vector<Grant>* out) const;

  size_t size() const;

  // The delivery gate. A stream holds DeliveryGuard() from its last consent check of a
  // message to handing that message to the transport; applying a revocation takes the gate
  // exclusively. So once Upsert of a revocation has returned, no message checked before it
  // can still be sent: a deliverer that sees revocations() changed since its check checks
  // again under the guard.
  std::shared_lock<std::shared_mutex> DeliveryGuard() const {
    return std::shared_lock<std::shared_mutex>(gate_);
  }
  // Increases with every revocation applied.
  uint64_t revocations() const { return revocations_.load(std::memory_order_acquire); }

 private:
  struct Entry {
    std::shared_ptr<const std::string> consent_id;  // shared with the Grants that name it
    std::string source;
    std::string target;  // empty: any member
    uint32_t categories = 0;  // bit per DataCategory value
    uint32_t purposes = 0;    // bit per Purpose value
    int64_t expires_at_micros = 0;
    int64_t revoked_at_micros = 0;
  };
  struct Shard {
    mutable std::shared_mutex mu;
    absl::flat_hash_map<std::string, std::vector<Entry>> by_subject;  // guarded by mu
  };
  static constexpr size_t kShards = 16;
  Shard& ShardFor(const std::string& subject);
  const Shard& ShardFor(const std::string& subject) const;
  std::array<Shard, kShards> shards_;
  mutable std::shared_mutex gate_;
  std::atomic<uint64_t> revocations_{0};
};

std::string FormatMicros(int64_t micros);  // RFC 3339, UTC

}  // namespace fedhub::consent

#endif  // FEDHUB_HUB_CONSENT_CONSENT_INDEX_H_
