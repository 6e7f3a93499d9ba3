#include "own_catalogue.h"

namespace fedhub_examples {

fedhub::v1::PublishEvent ItemEvent(const fedhub::v1::CatalogueItem& item, std::map<std::string, int>* revisions) {
  fedhub::v1::PublishEvent event;
  event.set_event_id("item-" + item.item_id() + "-r" + std::to_string(++(*revisions)[item.item_id()]));
  *event.mutable_catalogue()->mutable_item() = item;
  return event;
}

absl::StatusOr<std::vector<uint64_t>> PublishAndShare(Exchange& exchange, fedhub::Client& client,
                                                      std::vector<fedhub::v1::PublishEvent> events,
                                                      const std::vector<std::string>& partners,
                                                      const std::vector<fedhub::v1::ItemKind>& kinds) {
  std::vector<uint64_t> offsets;
  for (auto& result : exchange.Publish(std::move(events))) {
    if (!result.ok()) return result.status();
    offsets.push_back(*result);
  }
  fedhub::v1::SharingPolicy policy;
  for (const auto& partner : partners) policy.add_platform_ids(partner);
  for (auto kind : kinds) policy.add_kinds(kind);
  auto shared = client.SetSharingPolicy(policy);
  if (!shared.ok()) return shared.status();
  return offsets;
}

}  // namespace fedhub_examples
