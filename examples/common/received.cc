#include "received.h"

#include "describe.h"
#include "fedhub/v1/options.pb.h"

namespace fedhub_examples {
namespace {

using fedhub::v1::DataCategory;

// A person in one state-file field: "user:<local id>" or "pseudonym:<pseudonym>".
std::string EncodePerson(const PersonName& person) {
  return person.pseudonym.empty() ? "user:" + person.local_user_id : "pseudonym:" + person.pseudonym;
}

bool DecodePerson(const std::string& field, PersonName* person) {
  if (field.rfind("user:", 0) == 0) {
    person->local_user_id = field.substr(5);
  } else if (field.rfind("pseudonym:", 0) == 0) {
    person->pseudonym = field.substr(10);
  } else {
    return false;
  }
  return true;
}

bool ParseUint(const std::string& text, uint64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = v;
  return true;
}

absl::Status Malformed(size_t index, const std::string& what) {
  return absl::DataLossError("state record " + std::to_string(index + 1) + ": " + what +
                             "; delete the state file to start over from a catalogue snapshot");
}

}  // namespace

PersonName PersonName::Of(const fedhub::v1::ProfileUpdate& update) {
  return update.has_user() ? PersonName{update.user().local_user_id(), ""}
                           : PersonName{"", update.pairwise_pseudonym()};
}

PersonName PersonName::Of(const fedhub::v1::ErasureNotice& notice) {
  return notice.has_user() ? PersonName{notice.user().local_user_id(), ""}
                           : PersonName{"", notice.pairwise_pseudonym()};
}

std::string PersonName::Describe(const std::string& noun) const {
  if (pseudonym.empty()) return noun + " " + local_user_id + " (its own id)";
  return "pairwise pseudonym " + Abbreviate(pseudonym, 10) + " (no account here)";
}

void ClearCategory(fedhub::v1::ProfileFields* fields, DataCategory category) {
  const auto* descriptor = fedhub::v1::ProfileFields::descriptor();
  const auto* reflection = fedhub::v1::ProfileFields::GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->options().GetExtension(fedhub::v1::category) == category) {
      reflection->ClearField(fields, field);
    }
  }
}

void Received::ApplyCatalogue(const fedhub::v1::DeliveredEvent& event) {
  const auto& update = event.catalogue();
  ItemKey key{event.publisher_platform_id(), update.item().item_id()};
  if (update.removed()) {
    catalogue_.erase(key);
    return;
  }
  catalogue_[key] = PartnerItem{event.publisher_platform_id(), update.item(), event.offset()};
}

bool Received::ApplyProfile(const fedhub::v1::DeliveredEvent& event) {
  const auto& update = event.profile();
  PartnerProfile& held = profiles_[{event.publisher_platform_id(), PersonName::Of(update)}];
  if (update.version() <= held.version) return false;
  for (int i = 0; i < update.categories_size(); ++i) {
    const auto category = update.categories(i);
    ClearCategory(&held.fields, category);
    held.consents[category] = i < update.consent_ids_size() ? update.consent_ids(i) : "";
  }
  // The update carries only fields of its categories, all of which were just cleared.
  held.fields.MergeFrom(update.fields());
  held.version = update.version();
  return true;
}

void Received::Erase(const fedhub::v1::ErasureNotice& notice) {
  auto it = profiles_.find({notice.source_platform_id(), PersonName::Of(notice)});
  if (it == profiles_.end()) return;
  PartnerProfile& held = it->second;
  for (int c : notice.categories()) {
    const auto category = static_cast<DataCategory>(c);
    ClearCategory(&held.fields, category);
    held.consents.erase(category);
  }
  // The version is dropped with the data: after a new consent, the source's next change
  // applies whatever its version.
  if (held.consents.empty()) profiles_.erase(it);
}

const PartnerItem* Received::Item(const std::string& publisher, const std::string& item_id) const {
  auto it = catalogue_.find({publisher, item_id});
  return it == catalogue_.end() ? nullptr : &it->second;
}

const PartnerProfile* Received::Profile(const std::string& source, const PersonName& person) const {
  auto it = profiles_.find({source, person});
  return it == profiles_.end() ? nullptr : &it->second;
}

// Records:
//   cursor   <cursor>
//   item     <publisher> <item id> <offset> <hex of the CatalogueItem>
//   profile  <source> <person> <version> <CATEGORY=consent id,...> <hex of the ProfileFields>
std::vector<StateRecord> Received::Encode(uint64_t cursor) const {
  std::vector<StateRecord> out;
  out.push_back({"cursor", std::to_string(cursor)});
  for (const auto& [key, item] : catalogue_) {
    out.push_back({"item", key.first, key.second, std::to_string(item.offset), ToHex(item.item.SerializeAsString())});
  }
  for (const auto& [key, profile] : profiles_) {
    std::string consents;
    for (const auto& [category, consent_id] : profile.consents) {
      if (!consents.empty()) consents += ',';
      consents += CategoryName(category) + "=" + consent_id;
    }
    out.push_back({"profile", key.first, EncodePerson(key.second), std::to_string(profile.version), consents,
                   ToHex(profile.fields.SerializeAsString())});
  }
  return out;
}

absl::StatusOr<Received> Received::Decode(const std::vector<StateRecord>& records) {
  Received r;
  for (size_t i = 0; i < records.size(); ++i) {
    const StateRecord& f = records[i];
    if (f[0] == "cursor" && f.size() == 2) {
      if (!ParseUint(f[1], &r.cursor_)) return Malformed(i, "cursor is not a number");
    } else if (f[0] == "item" && f.size() == 5) {
      PartnerItem item{f[1], {}, 0};
      auto bytes = FromHex(f[4]);
      if (!ParseUint(f[3], &item.offset) || !bytes.ok() || !item.item.ParseFromString(*bytes) ||
          item.item.item_id() != f[2]) {
        return Malformed(i, "catalogue item does not parse");
      }
      r.catalogue_[{f[1], f[2]}] = std::move(item);
    } else if (f[0] == "profile" && f.size() == 6) {
      PersonName person;
      PartnerProfile profile;
      uint64_t version = 0;
      auto bytes = FromHex(f[5]);
      if (!DecodePerson(f[2], &person) || !ParseUint(f[3], &version) || !bytes.ok() ||
          !profile.fields.ParseFromString(*bytes)) {
        return Malformed(i, "profile does not parse");
      }
      profile.version = static_cast<int64_t>(version);
      size_t start = 0;
      while (start < f[4].size()) {
        size_t end = f[4].find(',', start);
        if (end == std::string::npos) end = f[4].size();
        std::string entry = f[4].substr(start, end - start);
        size_t eq = entry.find('=');
        DataCategory category;
        if (eq == std::string::npos ||
            !fedhub::v1::DataCategory_Parse("DATA_CATEGORY_" + entry.substr(0, eq), &category)) {
          return Malformed(i, "consent list entry \"" + entry + "\" is not CATEGORY=consent-id");
        }
        profile.consents[category] = entry.substr(eq + 1);
        start = end + 1;
      }
      r.profiles_[{f[1], person}] = std::move(profile);
    } else {
      return Malformed(i, "unknown record \"" + f[0] + "\" with " + std::to_string(f.size()) + " fields");
    }
  }
  return r;
}

}  // namespace fedhub_examples
