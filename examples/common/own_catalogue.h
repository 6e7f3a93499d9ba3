// What both example platforms do with their own catalogue: number each item's revisions in
// its event ids, and publish the whole catalogue with a sharing policy.
//
// Thread-safety: free functions; the caller guards `revisions`.
#ifndef FEDHUB_EXAMPLES_COMMON_OWN_CATALOGUE_H_
#define FEDHUB_EXAMPLES_COMMON_OWN_CATALOGUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "exchange.h"
#include "fedhub/client.h"

namespace fedhub_examples {

// The event for the item's next revision: event id "item-<item id>-r<n>", n counted in
// `revisions` (so a re-send after a reconnect keeps its id, a new revision gets a new one).
fedhub::v1::PublishEvent ItemEvent(const fedhub::v1::CatalogueItem& item, std::map<std::string, int>* revisions);

// Publishes `events`, then shares `kinds` with `partners`. The offsets, or the first failure.
absl::StatusOr<std::vector<uint64_t>> PublishAndShare(Exchange& exchange, fedhub::Client& client,
                                                      std::vector<fedhub::v1::PublishEvent> events,
                                                      const std::vector<std::string>& partners,
                                                      const std::vector<fedhub::v1::ItemKind>& kinds);

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_COMMON_OWN_CATALOGUE_H_
