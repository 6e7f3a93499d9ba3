#include "course_platform.h"

#include <filesystem>

#include "own_catalogue.h"

namespace fedhub_examples {
namespace {

using fedhub::v1::CatalogueItem;
using fedhub::v1::ItemKind;
using fedhub::v1::ItemLevel;

CatalogueItem Item(const std::string& id, ItemKind kind, const std::string& title, const std::string& author,
                   std::vector<std::string> tags, int64_t price_cents, ItemLevel level,
                   const std::string& description) {
  CatalogueItem item;
  item.set_item_id(id);
  item.set_kind(kind);
  item.set_title(title);
  item.set_description(description);
  item.add_authors(author);
  for (auto& tag : tags) item.add_tags(std::move(tag));
  item.set_price_minor(price_cents);
  item.set_currency("EUR");
  item.set_language("en");
  item.set_level(level);
  item.set_licence("personal");
  item.set_version("2026.1");
  return item;
}

// What the site sells when it opens.
std::vector<CatalogueItem> StartingCatalogue() {
  return {
      Item("course-101", fedhub::v1::ITEM_KIND_COURSE, "Data Science Foundations", "Mei Chen",
           {"data-science", "python"}, 4900, fedhub::v1::ITEM_LEVEL_BEGINNER,
           "Statistics, pandas and plotting, in twelve hands-on lessons."),
      Item("course-205", fedhub::v1::ITEM_KIND_COURSE, "UX Design in Practice", "Jonas Berg", {"ux", "design"},
           6900, fedhub::v1::ITEM_LEVEL_INTERMEDIATE, "Research, wireframes and usability tests on a real product."),
      Item("ebook-17", fedhub::v1::ITEM_KIND_EBOOK, "SQL Pocket Guide", "Mei Chen", {"sql", "data-science"}, 1500,
           fedhub::v1::ITEM_LEVEL_ALL, "Every query you need, with examples."),
      Item("audio-3", fedhub::v1::ITEM_KIND_AUDIO, "Typography Talks", "Ines Duarte", {"typography"}, 990,
           fedhub::v1::ITEM_LEVEL_ALL, "Conversations with type designers, for the commute."),
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoursePlatform>> CoursePlatform::Open(fedhub::Client client,
                                                                     const std::string& state_dir) {
  ExchangeOptions options;
  options.platform_id = kId;
  options.person_noun = "learner";
  options.state_file = (std::filesystem::path(state_dir) / "courses.state").string();
  auto exchange = Exchange::Open(client, std::move(options));
  if (!exchange.ok()) return exchange.status();
  std::unique_ptr<CoursePlatform> platform(new CoursePlatform(std::move(client), *std::move(exchange)));
  for (auto& item : StartingCatalogue()) platform->catalogue_[item.item_id()] = std::move(item);
  return platform;
}

CoursePlatform::CoursePlatform(fedhub::Client client, std::unique_ptr<Exchange> exchange)
    : client_(std::move(client)), exchange_(std::move(exchange)) {}

std::string CoursePlatform::SignUp(const std::string& display_name, const std::string& email,
                                   const std::string& locale, const std::string& country) {
  std::lock_guard lock(mu_);
  Learner learner;
  learner.id = "u-" + std::to_string(next_learner_++);
  learner.display_name = display_name;
  learner.email = email;
  learner.locale = locale;
  learner.country = country;
  std::string id = learner.id;
  learners_.emplace(id, std::move(learner));
  return id;
}

absl::Status CoursePlatform::RecordProgress(const std::string& learner_id, const std::string& course_id,
                                            int progress_permille, int64_t seconds_spent) {
  if (progress_permille < 0 || progress_permille > 1000) {
    return absl::InvalidArgumentError("progress " + std::to_string(progress_permille) +
                                      " is outside 0 to 1000 (per mille)");
  }
  std::lock_guard lock(mu_);
  auto learner = learners_.find(learner_id);
  if (learner == learners_.end()) return absl::NotFoundError("no learner " + learner_id);
  if (catalogue_.count(course_id) == 0) return absl::NotFoundError("no course " + course_id + " in the catalogue");
  for (auto& enrolment : learner->second.enrolments) {
    if (enrolment.course_id == course_id) {
      enrolment.progress_permille = progress_permille;
      enrolment.seconds_spent = seconds_spent;
      return absl::OkStatus();
    }
  }
  learner->second.enrolments.push_back({course_id, progress_permille, seconds_spent});
  return absl::OkStatus();
}

std::optional<Learner> CoursePlatform::FindLearner(const std::string& learner_id) const {
  std::lock_guard lock(mu_);
  auto it = learners_.find(learner_id);
  if (it == learners_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<fedhub::v1::ProfileFields> CoursePlatform::SharedProfile(const std::string& learner_id) const {
  std::optional<Learner> learner = FindLearner(learner_id);
  if (!learner) return absl::NotFoundError("no learner " + learner_id);
  fedhub::v1::ProfileFields fields;
  fields.set_display_name(learner->display_name);
  fields.set_locale(learner->locale);
  fields.set_country(learner->country);
  fields.set_email(learner->email);
  for (const auto& e : learner->enrolments) {
    fedhub::v1::Enrolment* enrolment = fields.add_enrolments();
    enrolment->set_item_id(e.course_id);
    enrolment->set_progress_permille(e.progress_permille);
    enrolment->set_completed(e.progress_permille == 1000);
    enrolment->set_seconds_spent(e.seconds_spent);
  }
  return fields;
}

std::vector<CatalogueItem> CoursePlatform::Catalogue() const {
  std::lock_guard lock(mu_);
  std::vector<CatalogueItem> items;
  for (const auto& [id, item] : catalogue_) items.push_back(item);
  return items;
}

absl::StatusOr<fedhub::v1::CreateLinkTicketResponse> CoursePlatform::IssueLinkTicket(const std::string& learner_id) {
  if (!FindLearner(learner_id)) return absl::NotFoundError("no learner " + learner_id);
  return client_.CreateLinkTicket(learner_id);
}

absl::StatusOr<fedhub::v1::GrantConsentResponse> CoursePlatform::RecordSyncConsent(
    const std::string& learner_id, const std::string& target,
    const std::vector<fedhub::v1::DataCategory>& categories, const std::string& form_reference) {
  if (!FindLearner(learner_id)) return absl::NotFoundError("no learner " + learner_id);
  fedhub::ConsentGrant grant;  // for the hub's maximum consent lifetime
  grant.local_user_id = learner_id;
  grant.target_platform_id = target;
  grant.categories = categories;
  grant.purposes = {fedhub::v1::PURPOSE_SYNC};
  grant.evidence_method = "web-form";
  grant.evidence_reference = form_reference;
  return client_.GrantConsent(grant);
}

absl::StatusOr<uint64_t> CoursePlatform::PublishProfile(const std::string& learner_id) {
  auto fields = SharedProfile(learner_id);
  if (!fields.ok()) return fields.status();
  int64_t version;
  {
    std::lock_guard lock(mu_);
    version = ++learners_[learner_id].profile_version;
  }
  fedhub::v1::PublishEvent event;
  // Stable across retries of this change: the hub stores it once.
  event.set_event_id("profile-" + learner_id + "-v" + std::to_string(version));
  fedhub::v1::ProfileChange* change = event.mutable_profile();
  change->mutable_user()->set_local_user_id(learner_id);
  change->add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
  change->add_categories(fedhub::v1::DATA_CATEGORY_CONTACT);
  change->add_categories(fedhub::v1::DATA_CATEGORY_LEARNING);
  *change->mutable_fields() = *std::move(fields);
  change->set_version(version);
  std::vector<fedhub::v1::PublishEvent> events;
  events.push_back(std::move(event));
  return std::move(exchange_->Publish(std::move(events)).front());
}

absl::StatusOr<std::vector<uint64_t>> CoursePlatform::PublishCatalogue(const std::vector<std::string>& partners) {
  std::vector<fedhub::v1::PublishEvent> events;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, item] : catalogue_) events.push_back(ItemEvent(item, &item_revisions_));
  }
  return PublishAndShare(*exchange_, client_, std::move(events), partners, {fedhub::v1::ITEM_KIND_COURSE, fedhub::v1::ITEM_KIND_EBOOK});
}

absl::StatusOr<uint64_t> CoursePlatform::PublishItem(const CatalogueItem& item) {
  std::vector<fedhub::v1::PublishEvent> events;
  {
    std::lock_guard lock(mu_);
    catalogue_[item.item_id()] = item;
    events.push_back(ItemEvent(item, &item_revisions_));
  }
  return std::move(exchange_->Publish(std::move(events)).front());
}

}  // namespace fedhub_examples
