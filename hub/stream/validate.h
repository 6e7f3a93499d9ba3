// Validation of what platforms publish and configure on the streams: events (profile and
// catalogue changes), catalogue items, sharing policies and subscriber filters; and the two
// matching rules the hub applies at delivery (sharing policy, subscriber filter).
//
// Pure functions over protobuf messages: no I/O, no clock, no gRPC. A refusal is
// INVALID_ARGUMENT whose message starts with the offending field's path relative to the
// PublishEvent ("profile.fields.purchases[2].currency", "catalogue.item.title",
// "event_id"), or relative to the request for policies and filters, and says how to fix it.
// Values of personal-data fields are never echoed into messages (they end up in logs);
// catalogue values and currency codes are.
//
// Which ProfileFields field belongs to which data category is read from the
// (fedhub.v1.category) declarations through fedhub::categories, never listed here.
//
// Thread-safety: every function is safe to call concurrently.
#ifndef FEDHUB_HUB_STREAM_VALIDATE_H_
#define FEDHUB_HUB_STREAM_VALIDATE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "fedhub/v1/catalogue.pb.h"
#include "fedhub/v1/stream.pb.h"

namespace fedhub::stream {

// Bounds on one event's size, beyond the per-field rules of the contract.
struct EventLimits {
  // Any ProfileFields string (at any depth) that has no limit of its own in the contract.
  size_t max_string_bytes = 1024;
  // Entries of any repeated field of a profile or catalogue item.
  size_t max_repeated = 1000;
  // Serialized ProfileFields of one change.
  size_t max_profile_bytes = 64 * 1024;
  // Serialized CatalogueItem of one change.
  size_t max_catalogue_bytes = 64 * 1024;
};

// `message` serialised deterministically (map entries in key order), as the hub hashes it.
std::string DeterministicBytes(const google::protobuf::Message& message);

// Checks an event id: 1 to 128 printable ASCII characters (0x21..0x7e).
absl::Status ValidateEventId(std::string_view id);

// Checks one event's content: its id, that it has a payload, and the payload. Does not check
// that the person exists or that the id is new (the hub does, against its state). With
// `profile_bytes`, a profile change's deterministic wire bytes are left there.
absl::Status ValidateEvent(const fedhub::v1::PublishEvent& event, const EventLimits& limits = {},
                           std::string* profile_bytes = nullptr);

// Checks a profile change: the user reference, the listed categories, the version, that
// every set field belongs to a listed category, each field's format and the size limits.
// Unknown fields at any depth are refused. With `bytes`, the change's deterministic wire
// bytes are left there.
absl::Status ValidateProfileChange(const fedhub::v1::ProfileChange& change,
                                   const EventLimits& limits, std::string* bytes = nullptr);

// Checks a catalogue change. A removal carries only item_id and kind; anything else must be
// a complete, valid item (ValidateCatalogueItem).
absl::Status ValidateCatalogueChange(const fedhub::v1::CatalogueChange& change,
                                     const EventLimits& limits);

// Checks every rule of the CatalogueItem contract. Paths start with "catalogue.item.".
absl::Status ValidateCatalogueItem(const fedhub::v1::CatalogueItem& item,
                                   const EventLimits& limits);

// True for the alphabetic code of an active ISO 4217 currency ("EUR"); false for fund,
// precious-metal, testing and withdrawn codes, and for anything not in capitals.
bool IsActiveCurrency(std::string_view code);

// BCP 47 shape: a primary language subtag of 2-3 (or 4-8) lowercase letters, then subtags
// of 1-8 ASCII letters or digits separated by '-', at most 35 characters in all: "en",
// "zh-Hans", "pt-BR", "de-AT-1996". Checks the shape, not the IANA registry.
bool IsLanguageTag(std::string_view tag);

// A CatalogueItem tag: 1 to 64 characters of lowercase ASCII letters, digits, '-', '+',
// '.', '#' ("c++", "c#", "node.js").
bool IsTag(std::string_view tag);

// Checks a sharing policy: platform ids are principal ids ([a-z][a-z0-9-]{0,63}), at most
// 1,000 and none repeated; kinds are defined, not UNSPECIFIED, and none repeated. `path` is
// the policy's field in the request, used in messages ("policy.platform_ids[3]").
absl::Status ValidateSharingPolicy(const fedhub::v1::SharingPolicy& policy,
                                   std::string_view path = "policy");

// Checks a subscriber's catalogue filter: kinds defined and not UNSPECIFIED, tags IsTag,
// languages IsLanguageTag, at most 100 entries in each list. `path` is the filter's field in
// the request ("catalogue_filter" in SubscribeRequest, "filter" in ListCatalogueRequest).
absl::Status ValidateCatalogueFilter(const fedhub::v1::CatalogueFilter& filter,
                                     std::string_view path = "filter");

// Whether `item` matches `filter`: every non-empty criterion must match. Kinds: the item's
// kind is one of them. Tags: the item carries at least one of them. Languages: the item's
// primary language subtag equals one of theirs, ignoring case ("en" and "en-US" both take
// "en-GB"; "pt-BR" also takes "pt-PT").
bool MatchesFilter(const fedhub::v1::CatalogueFilter& filter,
                   const fedhub::v1::CatalogueItem& item);

// Whether a publisher's `policy` shares items of `kind` with the platform `subscriber`.
bool Shares(const fedhub::v1::SharingPolicy& policy, std::string_view subscriber,
            fedhub::v1::ItemKind kind);

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_VALIDATE_H_
