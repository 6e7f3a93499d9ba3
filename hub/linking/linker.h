// People and their accounts: the hub's random subject id per person, the mapping from a
// platform's local user id to it, and one-time link tickets that join two platforms'
// accounts only when the person carries the ticket across (DESIGN §2).
//
// Thread-safety: thread-safe. Methods taking a Txn must run inside Store::Commit.
#ifndef FEDHUB_HUB_LINKING_LINKER_H_
#define FEDHUB_HUB_LINKING_LINKER_H_

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "identity/caller.h"
#include "identity/pseudonyms.h"
#include "storage/store.h"

namespace fedhub::linking {

struct LinkOptions {
  // How long a link ticket may be redeemed.
  std::chrono::seconds ticket_ttl{600};
};

struct Ticket {
  std::string ticket;
  int64_t expires_at_micros = 0;
};

class Linker {
 public:
  Linker(storage::Store* store, audit::AuditLog* audit, const Pseudonymizer* pseudonyms,
         LinkOptions options)
      : store_(store), audit_(audit), pseudonyms_(pseudonyms), options_(options) {}

  // The subject of (platform, local id); creates a subject and link the first time the
  // platform names the person.
  absl::StatusOr<std::string> ResolveOrCreate(storage::Txn& txn, const std::string& platform,
                                              const std::string& local_id);
  // The subject, or nullopt if the platform never named this local id.
  absl::StatusOr<std::optional<std::string>> Resolve(storage::Txn& txn, const std::string& platform,
                                                     const std::string& local_id) const;
  // Outside a transaction the answers are cached until the next link change.
  absl::StatusOr<std::optional<std::string>> Resolve(const std::string& platform,
                                                     const std::string& local_id) const;
  // The platform's local id for a subject, or nullopt if the person has no account there.
  absl::StatusOr<std::optional<std::string>> LocalIdOf(const std::string& subject,
                                                       const std::string& platform) const;

  absl::StatusOr<Ticket> CreateTicket(const Caller& caller, const std::string& local_id);
  // Links the caller's `local_id` to the person the ticket was issued for. Returns the
  // issuing platform.
  absl::StatusOr<std::string> Redeem(const Caller& caller, const std::string& ticket,
                                     const std::string& local_id);
  absl::Status Unlink(const Caller& caller, const std::string& local_id);
  // Increases after every durable link or unlink (for caches of LocalIdOf).
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }

 private:
  absl::Status AddLink(storage::Txn& txn, const std::string& subject, const std::string& platform,
                       const std::string& local_id);

  storage::Store* store_;
  audit::AuditLog* audit_;
  const Pseudonymizer* pseudonyms_;
  LinkOptions options_;
  std::atomic<uint64_t> changes_{0};
  // Resolve's answers (link key -> subject) as of link change `resolved_epoch_`: a
  // publisher names the same people again and again.
  mutable std::mutex resolved_mu_;
  mutable absl::flat_hash_map<std::string, std::string> resolved_;
  mutable uint64_t resolved_epoch_ = 0;
};

}  // namespace fedhub::linking

#endif  // FEDHUB_HUB_LINKING_LINKER_H_
