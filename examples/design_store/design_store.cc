#include "design_store.h"

#include <algorithm>
#include <filesystem>

#include "describe.h"
#include "own_catalogue.h"

namespace fedhub_examples {
namespace {

using fedhub::v1::CatalogueItem;
using fedhub::v1::ItemKind;

CatalogueItem Item(const std::string& id, ItemKind kind, const std::string& title, const std::string& maker,
                   std::vector<std::string> tags, int64_t price_cents, const std::string& licence,
                   const std::string& version, const std::string& description) {
  CatalogueItem item;
  item.set_item_id(id);
  item.set_kind(kind);
  item.set_title(title);
  item.set_description(description);
  item.add_authors(maker);
  for (auto& tag : tags) item.add_tags(std::move(tag));
  item.set_price_minor(price_cents);
  item.set_currency("EUR");
  item.set_language("en");
  item.set_level(fedhub::v1::ITEM_LEVEL_ALL);
  item.set_licence(licence);
  item.set_version(version);
  return item;
}

// What the store sells when it opens.
std::vector<CatalogueItem> StartingCatalogue() {
  return {
      Item("sw-41", fedhub::v1::ITEM_KIND_SOFTWARE, "Palette Studio", "Contoso Labs", {"design", "color"}, 2900,
           "single-seat", "3.2.0", "Colour palettes from a photo, exported to every design tool."),
      Item("tpl-7", fedhub::v1::ITEM_KIND_TEMPLATE, "Course Slide Deck", "Ana Ruiz", {"slides", "teaching"}, 1900,
           "commercial", "1.4", "Forty slide layouts for online lessons."),
      Item("tpl-9", fedhub::v1::ITEM_KIND_TEMPLATE, "Portfolio Site Theme", "Ana Ruiz", {"web", "portfolio"}, 2400,
           "single-site", "2.0.1", "A fast static portfolio for designers."),
      Item("ds-2", fedhub::v1::ITEM_KIND_DESIGN_SERVICE, "Logo Design Sprint", "Contoso Studio",
           {"branding", "logo"}, 45000, "commissioned work", "1", "Three logo concepts in five days."),
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<DesignStore>> DesignStore::Open(fedhub::Client client, const std::string& state_dir) {
  ExchangeOptions options;
  options.platform_id = kId;
  options.person_noun = "customer";
  options.state_file = (std::filesystem::path(state_dir) / "store.state").string();
  auto exchange = Exchange::Open(client, std::move(options));
  if (!exchange.ok()) return exchange.status();
  std::unique_ptr<DesignStore> store(new DesignStore(std::move(client), *std::move(exchange)));
  for (auto& item : StartingCatalogue()) store->catalogue_[item.item_id()] = std::move(item);
  return store;
}

DesignStore::DesignStore(fedhub::Client client, std::unique_ptr<Exchange> exchange)
    : client_(std::move(client)), exchange_(std::move(exchange)) {}

std::string DesignStore::Register(const std::string& display_name, const std::string& email) {
  std::lock_guard lock(mu_);
  Customer customer;
  customer.id = "c-" + std::to_string(next_customer_++);
  customer.display_name = display_name;
  customer.email = email;
  std::string id = customer.id;
  customers_.emplace(id, std::move(customer));
  return id;
}

absl::Status DesignStore::RecordPurchase(const std::string& customer_id, const std::string& item_id) {
  std::lock_guard lock(mu_);
  auto customer = customers_.find(customer_id);
  if (customer == customers_.end()) return absl::NotFoundError("no customer " + customer_id);
  auto item = catalogue_.find(item_id);
  if (item == catalogue_.end()) return absl::NotFoundError("no item " + item_id + " in the catalogue");
  customer->second.purchases.push_back({item_id, item->second.price_minor(), item->second.currency()});
  return absl::OkStatus();
}

absl::Status DesignStore::AddInterest(const std::string& customer_id, const std::string& tag) {
  std::lock_guard lock(mu_);
  auto customer = customers_.find(customer_id);
  if (customer == customers_.end()) return absl::NotFoundError("no customer " + customer_id);
  auto& tags = customer->second.interest_tags;
  if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  return absl::OkStatus();
}

std::optional<Customer> DesignStore::FindCustomer(const std::string& customer_id) const {
  std::lock_guard lock(mu_);
  auto it = customers_.find(customer_id);
  if (it == customers_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> DesignStore::DescribeCustomer(const std::string& customer_id) const {
  std::optional<Customer> customer = FindCustomer(customer_id);
  if (!customer) return {"no customer " + customer_id};
  std::string own = "customer " + customer->id + " \"" + customer->display_name + "\"";
  for (const auto& p : customer->purchases) own += "; bought " + p.item_id + " for " + Money(p.price_minor, p.currency);
  if (!customer->interest_tags.empty()) {
    own += "; interests";
    for (const auto& tag : customer->interest_tags) own += " " + tag;
  }
  std::vector<std::string> lines = {own};
  exchange_->Read([&](const Received& received) {
    for (const auto& [key, profile] : received.profiles()) {
      if (key.second.local_user_id != customer_id) continue;
      std::vector<fedhub::v1::DataCategory> held;
      for (const auto& [category, consent_id] : profile.consents) held.push_back(category);
      lines.push_back("  from " + key.first + " (v" + std::to_string(profile.version) + ", " + CategoryList(held) +
                      "): " + FieldsSummary(profile.fields));
    }
  });
  if (lines.size() == 1) lines.push_back("  nothing from partner platforms");
  return lines;
}

absl::StatusOr<std::string> DesignStore::RedeemLinkTicket(const std::string& ticket, const std::string& customer_id) {
  if (!FindCustomer(customer_id)) return absl::NotFoundError("no customer " + customer_id);
  auto redeemed = client_.RedeemLinkTicket(ticket, customer_id);
  if (!redeemed.ok()) return redeemed.status();
  return redeemed->linked_platform_id();
}

absl::StatusOr<std::vector<fedhub::v1::Consent>> DesignStore::ConsentsReceived(const std::string& customer_id) {
  auto consents = client_.ListAllConsents(customer_id);
  if (!consents.ok()) return consents.status();
  std::vector<fedhub::v1::Consent> received;
  for (auto& consent : *consents) {
    // The hub lists consents where the store is the source or a target; keep the ones that
    // bring data here.
    if (consent.source_platform_id() != kId) received.push_back(std::move(consent));
  }
  return received;
}

absl::StatusOr<fedhub::v1::RevokeConsentResponse> DesignStore::RevokeConsent(const std::string& customer_id,
                                                                            const std::string& consent_id) {
  if (!FindCustomer(customer_id)) return absl::NotFoundError("no customer " + customer_id);
  return client_.RevokeConsent(consent_id, customer_id);
}

absl::StatusOr<std::vector<uint64_t>> DesignStore::PublishCatalogue(const std::vector<std::string>& partners) {
  std::vector<fedhub::v1::PublishEvent> events;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, item] : catalogue_) events.push_back(ItemEvent(item, &item_revisions_));
  }
  return PublishAndShare(*exchange_, client_, std::move(events), partners, {fedhub::v1::ITEM_KIND_SOFTWARE, fedhub::v1::ITEM_KIND_TEMPLATE, fedhub::v1::ITEM_KIND_DESIGN_SERVICE});
}

absl::StatusOr<uint64_t> DesignStore::ChangePrice(const std::string& item_id, int64_t price_minor) {
  std::vector<fedhub::v1::PublishEvent> events;
  {
    std::lock_guard lock(mu_);
    auto item = catalogue_.find(item_id);
    if (item == catalogue_.end()) return absl::NotFoundError("no item " + item_id + " in the catalogue");
    item->second.set_price_minor(price_minor);
    events.push_back(ItemEvent(item->second, &item_revisions_));
  }
  return std::move(exchange_->Publish(std::move(events)).front());
}

}  // namespace fedhub_examples
