#include "describe.h"

namespace fedhub_examples {
namespace {

std::string WithoutPrefix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

void AppendPart(std::string* out, const std::string& separator, const std::string& part) {
  if (!out->empty()) *out += separator;
  *out += part;
}

}  // namespace

std::string Money(int64_t price_minor, const std::string& currency) {
  if (price_minor == 0) return "free";
  std::string cents = std::to_string(price_minor % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return std::to_string(price_minor / 100) + "." + cents + " " + currency;
}

std::string KindName(fedhub::v1::ItemKind kind) {
  return WithoutPrefix(fedhub::v1::ItemKind_Name(kind), "ITEM_KIND_");
}

std::string CategoryName(fedhub::v1::DataCategory category) {
  return WithoutPrefix(fedhub::v1::DataCategory_Name(category), "DATA_CATEGORY_");
}

std::string ReceiptActionName(fedhub::v1::ReceiptAction action) {
  return WithoutPrefix(fedhub::v1::ReceiptAction_Name(action), "RECEIPT_ACTION_");
}

std::string Count(uint64_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

std::string CategoryList(const std::vector<fedhub::v1::DataCategory>& categories) {
  std::string out;
  for (auto c : categories) AppendPart(&out, ", ", CategoryName(c));
  return out.empty() ? "none" : out;
}

std::string ItemSummary(const fedhub::v1::CatalogueItem& item) {
  return item.item_id() + " \"" + item.title() + "\" (" + KindName(item.kind()) + ", " +
         Money(item.price_minor(), item.currency()) + ")";
}

std::string FieldsSummary(const fedhub::v1::ProfileFields& f) {
  std::string profile;
  if (!f.display_name().empty()) AppendPart(&profile, ", ", "display name \"" + f.display_name() + "\"");
  if (!f.locale().empty()) AppendPart(&profile, ", ", "locale " + f.locale());
  if (!f.country().empty()) AppendPart(&profile, ", ", "country " + f.country());
  if (!f.age_band().empty()) AppendPart(&profile, ", ", "age band " + f.age_band());
  if (!f.email().empty()) AppendPart(&profile, ", ", "e-mail " + f.email());
  if (!f.phone().empty()) AppendPart(&profile, ", ", "phone " + f.phone());

  std::string out = profile;
  if (f.enrolments_size() > 0) {
    std::string list;
    for (const auto& e : f.enrolments()) {
      AppendPart(&list, ", ", e.item_id() + " " + std::to_string(e.progress_permille() / 10) + "%" +
                                  (e.completed() ? " (completed)" : ""));
    }
    AppendPart(&out, "; ", "enrolments: " + list);
  }
  if (f.purchases_size() > 0) {
    std::string list;
    for (const auto& p : f.purchases()) AppendPart(&list, ", ", p.item_id() + " " + Money(p.price_minor(), p.currency()));
    AppendPart(&out, "; ", "purchases: " + list);
  }
  if (f.interest_tags_size() > 0 || f.wish_list_size() > 0) {
    std::string list;
    for (const auto& t : f.interest_tags()) AppendPart(&list, ", ", t);
    for (const auto& w : f.wish_list()) AppendPart(&list, ", ", "wishes " + w);
    AppendPart(&out, "; ", "interests: " + list);
  }
  return out.empty() ? "no fields" : out;
}

std::string Abbreviate(const std::string& id, size_t keep) {
  return id.size() <= keep + 1 ? id : id.substr(0, keep) + "…";
}

}  // namespace fedhub_examples
