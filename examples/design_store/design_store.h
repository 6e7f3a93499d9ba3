// Contoso Software & Templates: an example member platform, a store for software, templates
// and design services, built on the FedHub SDK alone.
//
// Its own data: customers (local ids "c-2001", ...) with a display name, an e-mail
// address, purchases and interest tags; and its catalogue of software, templates and
// design services. With the hub it
//   - redeems link tickets its customers bring from other platforms;
//   - lists the consents that let a customer's data come to it, and revokes one when the
//     customer asks (any platform the person uses may revoke);
//   - publishes its catalogue and shares it with partners;
//   - receives what partners send it through its Exchange (examples/common/exchange.h):
//     partner catalogue, profile updates by version, erasure notices it acts on and
//     acknowledges; cursor and received data in <state dir>/store.state.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_EXAMPLES_DESIGN_STORE_DESIGN_STORE_H_
#define FEDHUB_EXAMPLES_DESIGN_STORE_DESIGN_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exchange.h"
#include "fedhub/client.h"
#include "fedhub/v1/catalogue.pb.h"
#include "fedhub/v1/consent.pb.h"

namespace fedhub_examples {

// The store's record of a customer.
struct Customer {
  struct Purchase {
    std::string item_id;
    int64_t price_minor = 0;
    std::string currency;
  };
  std::string id;  // "c-2001"
  std::string display_name;
  std::string email;
  std::vector<Purchase> purchases;
  std::vector<std::string> interest_tags;
};

class DesignStore {
 public:
  // The platform id in its certificate.
  static constexpr char kId[] = "store";

  // A store with its starting catalogue, on its own `client` (certificate of "store"); its
  // state file is <state_dir>/store.state (DATA_LOSS if it is corrupt).
  static absl::StatusOr<std::unique_ptr<DesignStore>> Open(fedhub::Client client, const std::string& state_dir);

  // --- Its own data -----------------------------------------------------------------
  // Creates a customer account; returns its id.
  std::string Register(const std::string& display_name, const std::string& email);
  // Records an order of a catalogue item at its current price. NOT_FOUND for an unknown
  // customer or item.
  absl::Status RecordPurchase(const std::string& customer_id, const std::string& item_id);
  // Adds an interest tag (kept once). NOT_FOUND for an unknown customer.
  absl::Status AddInterest(const std::string& customer_id, const std::string& tag);
  std::optional<Customer> FindCustomer(const std::string& customer_id) const;
  // Everything the store holds about the customer, in plain words: its own record, then
  // what each partner sent under the customer's consents.
  std::vector<std::string> DescribeCustomer(const std::string& customer_id) const;

  // --- With the hub -----------------------------------------------------------------
  // Links the customer to the account a ticket from another platform stands for; returns
  // that platform's id.
  absl::StatusOr<std::string> RedeemLinkTicket(const std::string& ticket, const std::string& customer_id);
  // The consents in force that let partners send the customer's data to the store.
  absl::StatusOr<std::vector<fedhub::v1::Consent>> ConsentsReceived(const std::string& customer_id);
  // Revokes a consent at the customer's request. The response holds the signed receipt.
  absl::StatusOr<fedhub::v1::RevokeConsentResponse> RevokeConsent(const std::string& customer_id,
                                                                  const std::string& consent_id);
  // Publishes the whole catalogue and shares its software, templates and design services
  // with `partners`. Returns the items' offsets.
  absl::StatusOr<std::vector<uint64_t>> PublishCatalogue(const std::vector<std::string>& partners);
  // Changes an item's price and publishes the change; returns its offset. NOT_FOUND for an
  // unknown item.
  absl::StatusOr<uint64_t> ChangePrice(const std::string& item_id, int64_t price_minor);

  // Partner catalogue, partner profiles, erasures.
  Exchange& exchange() { return *exchange_; }

 private:
  DesignStore(fedhub::Client client, std::unique_ptr<Exchange> exchange);

  fedhub::Client client_;
  std::unique_ptr<Exchange> exchange_;

  mutable std::mutex mu_;
  std::map<std::string, Customer> customers_;                   // guarded by mu_
  std::map<std::string, fedhub::v1::CatalogueItem> catalogue_;  // guarded by mu_
  std::map<std::string, int> item_revisions_;                   // guarded by mu_
  int next_customer_ = 2001;                                    // guarded by mu_
};

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_DESIGN_STORE_DESIGN_STORE_H_
