// Northwind Courses: an example member platform, a course site built on the FedHub SDK alone.
//
// Its own data: learners (local ids "u-1001", ...) with a display name, an e-mail address,
// a locale, a country and enrolments with progress; and its catalogue of courses, e-books
// and an audio course. With the hub it
//   - links a learner's account to another platform (a one-time ticket the learner carries);
//   - records the learner's consent to sync data to a partner, and keeps the signed receipt;
//   - publishes the learner's profile changes, versioned, with fedhub::Publisher;
//   - publishes its catalogue and shares its courses and e-books with partners;
//   - receives what partners send it through its Exchange (examples/common/exchange.h):
//     partner catalogue, profile updates, erasure notices; cursor and received data in
//     <state dir>/courses.state.
//
//   auto courses = fedhub_examples::CoursePlatform::Open(
//       *fedhub::Client::Connect(fedhub::ClientOptions::ForPrincipal(certs, "courses", hub)),
//       "/var/lib/northwind");
//   std::string ada = (*courses)->SignUp("Ada Lovelace", "ada@example.org", "en-GB", "GB");
//   auto ticket = (*courses)->IssueLinkTicket(ada);      // Ada takes it to the store
//   auto consent = (*courses)->RecordSyncConsent(ada, "store",
//       {fedhub::v1::DATA_CATEGORY_PROFILE, fedhub::v1::DATA_CATEGORY_LEARNING}, "form-17");
//   auto offset = (*courses)->PublishProfile(ada);        // the hub filters per consent
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_EXAMPLES_COURSE_PLATFORM_COURSE_PLATFORM_H_
#define FEDHUB_EXAMPLES_COURSE_PLATFORM_COURSE_PLATFORM_H_

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
#include "fedhub/v1/profile.pb.h"

namespace fedhub_examples {

// The course site's record of a learner.
struct Learner {
  struct Enrolment {
    std::string course_id;
    int progress_permille = 0;  // 0 to 1000
    int64_t seconds_spent = 0;
  };
  std::string id;  // "u-1001"
  std::string display_name;
  std::string email;
  std::string locale;   // BCP 47
  std::string country;  // ISO 3166-1 alpha-2
  std::vector<Enrolment> enrolments;
  // Version of the learner's profile in the last change published; 0 before the first.
  int64_t profile_version = 0;
};

class CoursePlatform {
 public:
  // The platform id in its certificate.
  static constexpr char kId[] = "courses";

  // A course site with its starting catalogue, on its own `client` (certificate of
  // "courses"); its state file is <state_dir>/courses.state (DATA_LOSS if it is corrupt).
  static absl::StatusOr<std::unique_ptr<CoursePlatform>> Open(fedhub::Client client, const std::string& state_dir);

  // --- Its own data -----------------------------------------------------------------
  // Creates a learner account; returns its id.
  std::string SignUp(const std::string& display_name, const std::string& email, const std::string& locale,
                     const std::string& country);
  // Records progress in a catalogue course, enrolling the learner on first use. NOT_FOUND
  // for an unknown learner or course; INVALID_ARGUMENT for progress outside 0 to 1000.
  absl::Status RecordProgress(const std::string& learner_id, const std::string& course_id,
                              int progress_permille, int64_t seconds_spent);
  std::optional<Learner> FindLearner(const std::string& learner_id) const;
  // The learner's profile as the site shares it: PROFILE, CONTACT and LEARNING fields.
  absl::StatusOr<fedhub::v1::ProfileFields> SharedProfile(const std::string& learner_id) const;
  std::vector<fedhub::v1::CatalogueItem> Catalogue() const;

  // --- With the hub -----------------------------------------------------------------
  // A one-time link ticket for the learner to redeem at another platform.
  absl::StatusOr<fedhub::v1::CreateLinkTicketResponse> IssueLinkTicket(const std::string& learner_id);
  // Records the learner's consent to sync `categories` to `target` (empty: any member),
  // given on the site's sharing-settings form `form_reference`. The response holds the
  // consent and the signed receipt to hand to the learner.
  absl::StatusOr<fedhub::v1::GrantConsentResponse> RecordSyncConsent(
      const std::string& learner_id, const std::string& target,
      const std::vector<fedhub::v1::DataCategory>& categories, const std::string& form_reference);
  // Publishes the learner's whole shared profile as one change with the next version, and
  // returns its offset in the hub's event log once durable. Which categories reach which
  // partner is the hub's business, per consent. NOT_FOUND (the hub's) for a learner never
  // named to the hub: no consent and no link yet.
  absl::StatusOr<uint64_t> PublishProfile(const std::string& learner_id);
  // Publishes the whole catalogue and shares its courses and e-books with `partners`
  // (not the audio course). Returns the items' offsets.
  absl::StatusOr<std::vector<uint64_t>> PublishCatalogue(const std::vector<std::string>& partners);
  // Adds or replaces one catalogue item and publishes the change; returns its offset.
  absl::StatusOr<uint64_t> PublishItem(const fedhub::v1::CatalogueItem& item);

  // Partner catalogue, partner profiles, erasures.
  Exchange& exchange() { return *exchange_; }

 private:
  CoursePlatform(fedhub::Client client, std::unique_ptr<Exchange> exchange);

  fedhub::Client client_;
  std::unique_ptr<Exchange> exchange_;

  mutable std::mutex mu_;
  std::map<std::string, Learner> learners_;                     // guarded by mu_
  std::map<std::string, fedhub::v1::CatalogueItem> catalogue_;  // guarded by mu_
  std::map<std::string, int> item_revisions_;                   // guarded by mu_
  int next_learner_ = 1001;                                     // guarded by mu_
};

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_COURSE_PLATFORM_COURSE_PLATFORM_H_
