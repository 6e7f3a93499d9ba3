// What a member platform holds of what its partners sent it through the hub: the catalogue
// items they share with it, and the profile data people consented to let through, by
// person and source platform.
//
// Applying is idempotent, because the hub delivers at least once: a catalogue item is
// replaced by its latest state, a profile change is applied only when its version is newer
// than the one held (last writer wins), and erasing what is already gone changes nothing.
//
// Thread-safety: not thread-safe (Exchange guards its Received with a mutex).
#ifndef FEDHUB_EXAMPLES_COMMON_RECEIVED_H_
#define FEDHUB_EXAMPLES_COMMON_RECEIVED_H_

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "fedhub/v1/stream.pb.h"
#include "state_file.h"

namespace fedhub_examples {

// How the hub names a person to this platform: the platform's own id when the person has
// linked an account here, else this platform's pairwise pseudonym for them.
struct PersonName {
  std::string local_user_id;
  std::string pseudonym;

  static PersonName Of(const fedhub::v1::ProfileUpdate& update);
  static PersonName Of(const fedhub::v1::ErasureNotice& notice);
  // `noun` names the platform's kind of account: `customer c-2001 (its own id)` or
  // `pairwise pseudonym 5Kq0x…, no account here`.
  std::string Describe(const std::string& noun) const;
  auto operator<=>(const PersonName&) const = default;
};

// A partner's catalogue item, as last received.
struct PartnerItem {
  std::string publisher;
  fedhub::v1::CatalogueItem item;
  // Event-log offset of the change that produced this state.
  uint64_t offset = 0;
};

// One person's data from one source platform.
struct PartnerProfile {
  // The source's version of the person's profile last applied.
  int64_t version = 0;
  // Categories held, each with the consent it was received under.
  std::map<fedhub::v1::DataCategory, std::string> consents;
  // Only fields of the categories held.
  fedhub::v1::ProfileFields fields;
};

// Counters of one subscription's deliveries (not persisted).
struct DeliveryCounts {
  uint64_t snapshot_items = 0;
  uint64_t catalogue_changes = 0;
  uint64_t profile_updates = 0;        // applied
  uint64_t stale_profile_updates = 0;  // not newer than what was held; ignored
  uint64_t erasure_notices = 0;
  uint64_t erasures_acknowledged = 0;
  uint64_t total() const {
    return snapshot_items + catalogue_changes + profile_updates + stale_profile_updates +
           erasure_notices;
  }
};

class Received {
 public:
  using ItemKey = std::pair<std::string, std::string>;        // publisher, item id
  using ProfileKey = std::pair<std::string, PersonName>;      // source platform, person

  // Replaces (or removes) the item `event` carries.
  void ApplyCatalogue(const fedhub::v1::DeliveredEvent& event);
  // Applies a profile update if newer than what is held from its source; returns whether
  // it did. The categories it carries replace what was held of them.
  bool ApplyProfile(const fedhub::v1::DeliveredEvent& event);
  // Deletes the notice's categories of the person's data from its source; drops the record
  // once nothing is left of it.
  void Erase(const fedhub::v1::ErasureNotice& notice);

  const PartnerItem* Item(const std::string& publisher, const std::string& item_id) const;
  const PartnerProfile* Profile(const std::string& source, const PersonName& person) const;
  const std::map<ItemKey, PartnerItem>& catalogue() const { return catalogue_; }
  const std::map<ProfileKey, PartnerProfile>& profiles() const { return profiles_; }

  // The last cursor committed with this data (0: none yet).
  uint64_t cursor() const { return cursor_; }
  void set_cursor(uint64_t cursor) { cursor_ = cursor; }

  DeliveryCounts counts;

  // The state-file records for `cursor` and the data (not the counts), and back. Decode
  // returns DATA_LOSS naming the record that does not parse.
  std::vector<StateRecord> Encode(uint64_t cursor) const;
  static absl::StatusOr<Received> Decode(const std::vector<StateRecord>& records);

 private:
  uint64_t cursor_ = 0;
  std::map<ItemKey, PartnerItem> catalogue_;
  std::map<ProfileKey, PartnerProfile> profiles_;
};

// Clears every field of `fields` that belongs to `category`, as the field declares it
// (the fedhub.v1.category option): the same declaration the hub filters by.
void ClearCategory(fedhub::v1::ProfileFields* fields, fedhub::v1::DataCategory category);

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_COMMON_RECEIVED_H_
