// fedhub_demo: the scenario the run command shows. Two example member platforms — a course
// site (examples/course_platform) and a store for software, templates and design services
// (examples/design_store) — run in one process, each with its own fedhub::Client and
// certificate, and exchange catalogues and one person's profile through the hub under her
// consent, until she revokes it:
//   1. the operator registers both; both publish and share catalogues; each receives the
//      other's, first as a snapshot, then live;
//   2. Ada links her two accounts and consents to PROFILE and LEARNING (not CONTACT) going
//      from the course site to the store for SYNC; her profile change arrives at the store
//      without her e-mail, under the store's own customer id;
//   3. Grace, who has no store account, reaches the store only as a pairwise pseudonym;
//   4. Ada revokes at the store; the store erases and acknowledges; her next change never
//      reaches it;
//   5. a restart from the store's state file, the counts, the revocation receipt verified
//      offline, and both hash chains verified by the auditor;
//   6. the auditor's consent report on Ada, read at a signed tree head, with one line
//      proved to be in that head (inclusion proof verified offline with the hub key).
//
//   fedhub_demo --endpoint 127.0.0.1:7443 --certs .fedhub/certs [--state-dir DIR]
//               [--timeout-seconds 20]
//
// Certificates: <certs>/{ca.crt, operator.*, courses.*, store.*, auditor.*} as written by
// `fedhubctl dev-certs --platform courses --platform store`. The platforms' state files go
// to --state-dir (default: a new directory under the system's temporary directory). Run it
// against a hub where these people do not exist yet (a fresh data directory). Every wait is
// for something a subscription applied, bounded by --timeout-seconds. Exits 0 when every
// step behaved as the consent model says; 1, saying what did not, otherwise; 64 for bad
// arguments.
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "auditor_report.h"
#include "course_platform.h"
#include "describe.h"
#include "design_store.h"
#include "fedhub/client.h"
#include "fedhub/verify.h"

namespace {

using fedhub::v1::DATA_CATEGORY_LEARNING;
using fedhub::v1::DATA_CATEGORY_PROFILE;
using fedhub_examples::Abbreviate;
using fedhub_examples::CoursePlatform;
using fedhub_examples::DesignStore;
using fedhub_examples::Exchange;
using fedhub_examples::FieldsSummary;
using fedhub_examples::PersonName;
using fedhub_examples::Received;

struct Args {
  std::string endpoint = "localhost:7443";
  std::string certs = ".fedhub/certs";
  std::string state_dir;
  int timeout_seconds = 20;
};

void Say(const std::string& line) { std::cout << "  " << line << "\n" << std::flush; }
void Step(const std::string& who, const std::string& what) { Say("[" + who + "] " + what); }
void Heading(const std::string& title) { std::cout << "\n" << title << "\n" << std::flush; }

// Ends the run at once: the platforms' threads are not wound down, the hub keeps what it
// stored.
[[noreturn]] void Fail(const std::string& what, const absl::Status& status) {
  std::cout << std::flush;
  std::cerr << "fedhub_demo: " << what << " failed: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n"
            << std::flush;
  std::_Exit(1);
}

void Expect(bool holds, const std::string& what) {
  if (!holds) Fail("checking that " + what, absl::InternalError("it did not happen"));
}

void Check(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Fail(what, status);
}

template <typename T>
T Must(absl::StatusOr<T> result, const std::string& what) {
  if (!result.ok()) Fail(what, result.status());
  return *std::move(result);
}

std::string N(uint64_t n) { return std::to_string(n); }

std::string OffsetRange(const std::vector<uint64_t>& offsets) {
  return offsets.size() == 1 ? N(offsets[0]) : N(offsets.front()) + "-" + N(offsets.back());
}

class Scenario {
 public:
  explicit Scenario(Args args) : args_(std::move(args)), timeout_(std::chrono::seconds(args_.timeout_seconds)) {}

  void Run() {
    MembersAndCatalogues();
    AdaSharesHerProfile();
    GraceHasNoStoreAccount();
    AdaRevokes();
    Summary();
    AuditorsReport();
    std::cout << "\nfedhub_demo: every step behaved as the consent model says.\n" << std::flush;
  }

 private:
  fedhub::Client Connect(const std::string& id) {
    return Must(fedhub::Client::Connect(fedhub::ClientOptions::ForPrincipal(args_.certs, id, args_.endpoint)),
                "connecting as " + id);
  }

  // Waits for what `ready` describes to be applied at `exchange`, then tells what arrived.
  void Await(Exchange& exchange, const std::string& what, const std::function<bool(const Received&)>& ready) {
    absl::Status status = exchange.WaitFor(what, ready, timeout_);
    for (const std::string& line : exchange.TakeJournal()) Say(line);
    Check(status, "waiting for " + what);
  }

  // Registers `id` unless it already is.
  void EnsureRegistered(const std::string& id, fedhub::v1::Role role, const std::string& name) {
    fedhub::v1::Principal principal;
    principal.set_id(id);
    principal.set_role(role);
    principal.set_display_name(name);
    auto registered = operator_.RegisterPrincipal(principal);
    if (registered.ok()) {
      Step("operator", "registered " + id + " (" + name + ") as " + fedhub::v1::Role_Name(role));
    } else if (registered.status().code() == absl::StatusCode::kAlreadyExists) {
      Step("operator", id + " is already registered");
    } else {
      Fail("registering " + id, registered.status());
    }
  }

  void MembersAndCatalogues() {
    auto info = Must(operator_.GetHubInfo(), "asking the hub who it is");
    hub_key_ = Must(fedhub::HubPublicKeyFromPem(info.signing_public_key_pem()), "reading the hub's public key");
    std::cout << "FedHub " << info.version() << " at " << args_.endpoint << "; receipts signed with hub key "
              << info.signing_key_id() << "\n";

    Heading("1. Two member platforms and their catalogues");
    EnsureRegistered(CoursePlatform::kId, fedhub::v1::ROLE_PLATFORM, "Northwind Courses");
    EnsureRegistered(DesignStore::kId, fedhub::v1::ROLE_PLATFORM, "Contoso Software & Templates");
    EnsureRegistered("auditor", fedhub::v1::ROLE_AUDITOR, "Data-protection office");
    courses_ = Must(CoursePlatform::Open(Connect(CoursePlatform::kId), args_.state_dir), "opening the course site");
    store_ = Must(DesignStore::Open(Connect(DesignStore::kId), args_.state_dir), "opening the store");

    auto course_offsets = Must(courses_->PublishCatalogue({DesignStore::kId}), "publishing the course catalogue");
    Step("courses", "published its catalogue: " + N(course_offsets.size()) + " items at offsets " +
                        OffsetRange(course_offsets) +
                        "; shares its COURSE and EBOOK items with store (not the AUDIO course)");
    auto store_offsets = Must(store_->PublishCatalogue({CoursePlatform::kId}), "publishing the store catalogue");
    Step("store", "published its catalogue: " + N(store_offsets.size()) + " items at offsets " +
                      OffsetRange(store_offsets) + "; shares SOFTWARE, TEMPLATE and DESIGN_SERVICE items with courses");
    const uint64_t published = store_offsets.back();

    Check(courses_->exchange().Subscribe(), "subscribing the course site");
    Await(courses_->exchange(), "the store's catalogue snapshot", [&](const Received& r) { return r.cursor() >= published; });
    Check(store_->exchange().Subscribe(), "subscribing the store");
    Await(store_->exchange(), "the course site's catalogue snapshot", [&](const Received& r) { return r.cursor() >= published; });
    store_->exchange().Read([&](const Received& r) {
      Expect(r.catalogue().size() == 3 && r.Item(CoursePlatform::kId, "audio-3") == nullptr,
             "the store received the 3 course-site items shared with it and not the audio course");
    });
    courses_->exchange().Read([&](const Received& r) {
      Expect(r.catalogue().size() == 4, "the course site received the store's 4 items");
    });

    fedhub::v1::CatalogueItem course = CourseItem("course-101");  // as a template
    course.set_item_id("course-310");
    course.set_title("Prototyping in Figma");
    course.set_description("From wireframe to clickable prototype in a weekend.");
    course.clear_tags();
    course.add_tags("figma");
    course.add_tags("ux");
    course.set_price_minor(7900);
    course.set_level(fedhub::v1::ITEM_LEVEL_INTERMEDIATE);
    uint64_t offset = Must(courses_->PublishItem(course), "publishing a new course");
    Step("courses", "launched course-310 \"Prototyping in Figma\"; published at offset " + N(offset));
    Await(store_->exchange(), "course-310 live",
          [&](const Received& r) { return r.Item(CoursePlatform::kId, "course-310") != nullptr; });
    offset = Must(store_->ChangePrice("tpl-7", 1500), "changing a price");
    Step("store", "cut the price of tpl-7 \"Course Slide Deck\" to 15.00 EUR; published at offset " + N(offset));
    Await(courses_->exchange(), "tpl-7's new price", [&](const Received& r) {
      const auto* item = r.Item(DesignStore::kId, "tpl-7");
      return item != nullptr && item->item.price_minor() == 1500;
    });
  }

  void AdaSharesHerProfile() {
    Heading("2. Ada links her accounts and shares her profile and learning with the store");
    ada_ = courses_->SignUp("Ada Lovelace", "ada@example.org", "en-GB", "GB");
    Check(courses_->RecordProgress(ada_, "course-101", 350, 3 * 3600), "recording progress");
    Step("courses", "Ada Lovelace signed up as learner " + ada_ + " (ada@example.org); 35% through course-101");
    ada_customer_ = store_->Register("Ada Lovelace", "ada@example.org");
    Check(store_->RecordPurchase(ada_customer_, "tpl-9"), "recording a purchase");
    Check(store_->AddInterest(ada_customer_, "typography"), "recording an interest");
    Step("store", "Ada is also customer " + ada_customer_ +
                      " here (she bought tpl-9); nothing tells the hub the two accounts are one person");

    auto ticket = Must(courses_->IssueLinkTicket(ada_), "issuing a link ticket");
    Step("courses", "issued a one-time link ticket for " + ada_ + " (" + N(ticket.ticket().size()) +
                        " characters); Ada carries it to the store");
    std::string linked = Must(store_->RedeemLinkTicket(ticket.ticket(), ada_customer_), "redeeming the ticket");
    Step("store", "redeemed it for customer " + ada_customer_ + ": linked to her account at " + linked);

    auto granted = Must(courses_->RecordSyncConsent(ada_, DesignStore::kId, {DATA_CATEGORY_PROFILE, DATA_CATEGORY_LEARNING},
                                                    "sharing-settings/" + ada_),
                        "recording Ada's consent");
    ada_consent_ = granted.consent().consent_id();
    auto receipt = Must(fedhub::VerifyReceipt(granted.receipt(), hub_key_), "verifying the consent receipt");
    Step("courses", "recorded Ada's consent " + Abbreviate(ada_consent_) +
                        ": PROFILE and LEARNING data to store, for SYNC (not CONTACT); signed receipt, ledger entry " +
                        N(receipt.ledger_sequence()) + ", handed to Ada");

    PublishProfile(ada_, "v1");
    Await(store_->exchange(), "Ada's profile", [&](const Received& r) {
      return r.Profile(CoursePlatform::kId, PersonName{ada_customer_, ""}) != nullptr;
    });
    for (const std::string& line : store_->DescribeCustomer(ada_customer_)) Step("store", line);
    store_->exchange().Read([&](const Received& r) {
      const auto* ada = r.Profile(CoursePlatform::kId, PersonName{ada_customer_, ""});
      Expect(ada->fields.email().empty() && ada->fields.display_name() == "Ada Lovelace" &&
                 ada->fields.enrolments_size() == 1,
             "Ada's name and enrolment reached the store and her e-mail did not");
    });
    Step("store", "no e-mail arrived: the hub removed the address the course site sent, as CONTACT is not in "
                  "Ada's consent");
  }

  void GraceHasNoStoreAccount() {
    Heading("3. Grace, who has no store account");
    grace_ = courses_->SignUp("Grace Hopper", "grace@example.org", "en-US", "US");
    Check(courses_->RecordProgress(grace_, "course-205", 600, 2 * 3600), "recording progress");
    auto granted = Must(courses_->RecordSyncConsent(grace_, DesignStore::kId, {DATA_CATEGORY_PROFILE},
                                                    "sharing-settings/" + grace_),
                        "recording Grace's consent");
    Step("courses", "Grace Hopper, learner " + grace_ + ", consents to PROFILE data going to store for SYNC: consent " +
                        Abbreviate(granted.consent().consent_id()));
    PublishProfile(grace_, "v1");
    Await(store_->exchange(), "Grace's profile", [&](const Received& r) {
      for (const auto& [key, profile] : r.profiles()) {
        if (key.first == CoursePlatform::kId && !key.second.pseudonym.empty()) grace_pseudonym_ = key.second.pseudonym;
      }
      return !grace_pseudonym_.empty();
    });
    store_->exchange().Read([&](const Received& r) {
      const auto* grace = r.Profile(CoursePlatform::kId, PersonName{"", grace_pseudonym_});
      Expect(grace->fields.enrolments_size() == 0 && grace->fields.email().empty(),
             "only Grace's PROFILE fields reached the store");
    });
    Step("store", "it knows her only as " + Abbreviate(grace_pseudonym_, 10) +
                      ", a pseudonym the hub derives for the store alone: no other platform can join it with theirs");

    const std::string alan = courses_->SignUp("Alan Turing", "alan@example.org", "en-GB", "GB");
    auto refused = courses_->PublishProfile(alan);
    Expect(refused.status().code() == absl::StatusCode::kNotFound,
           "the hub refuses a profile change for a learner never named to it");
    Step("courses", "a change for " + alan + ", who never consented or linked, is refused: " +
                        absl::StatusCodeToString(refused.status().code()) + ": " +
                        std::string(refused.status().message()));
  }

  void AdaRevokes() {
    Heading("4. Ada withdraws her consent at the store");
    auto consents = Must(store_->ConsentsReceived(ada_customer_), "listing Ada's consents at the store");
    Expect(consents.size() == 1 && consents[0].consent_id() == ada_consent_,
           "the store sees the one consent that brings Ada's data to it");
    Step("store", "Ada asks the store to stop receiving her course data; it holds " + N(consents.size()) +
                      " consent for customer " + ada_customer_ + ": " + Abbreviate(ada_consent_) + " from " +
                      consents[0].source_platform_id());
    revoked_ = Must(store_->RevokeConsent(ada_customer_, ada_consent_), "revoking Ada's consent");
    Step("store", "revoked " + Abbreviate(ada_consent_) + " (any platform Ada uses may); signed receipt handed to Ada");
    Await(store_->exchange(), "the erasure of Ada's data",
          [](const Received& r) { return r.counts.erasures_acknowledged >= 1; });
    for (const std::string& line : store_->DescribeCustomer(ada_customer_)) Step("store", line);

    Check(courses_->RecordProgress(ada_, "course-101", 800, 7 * 3600), "recording progress");
    const uint64_t ada_offset = PublishProfile(ada_, "v2 (course-101 now 80%)");
    Check(courses_->RecordProgress(grace_, "course-205", 900, 3 * 3600), "recording progress");
    const uint64_t grace_offset = PublishProfile(grace_, "v2");
    Await(store_->exchange(), "Grace's change v2", [&](const Received& r) {
      const auto* grace = r.Profile(CoursePlatform::kId, PersonName{"", grace_pseudonym_});
      return grace != nullptr && grace->version >= 2;
    });
    store_->exchange().Read([&](const Received& r) {
      Expect(r.Profile(CoursePlatform::kId, PersonName{ada_customer_, ""}) == nullptr && r.counts.profile_updates == 3,
             "Ada's change after the revocation did not reach the store");
    });
    Step("store", "Grace's change at offset " + N(grace_offset) + " arrived, Ada's at offset " + N(ada_offset) +
                      " did not: nothing is delivered under a revoked consent");
  }

  void Summary() {
    Heading("5. Restart, summary and proofs");
    Exchange& store = store_->exchange();
    std::vector<fedhub_examples::StateRecord> before;
    uint64_t delivered_before = 0;
    // The data, not the cursor: the hook may not have committed the last message's cursor
    // yet; stopping the subscription commits it.
    store.Read([&](const Received& r) {
      before = r.Encode(0);
      delivered_before = r.counts.total();
    });
    Step("store", "restarts, as after a deploy: it drops what it holds in memory and reloads " +
                      store.state_file_name());
    Check(store.Restart(), "restarting the store's subscription from its state file");
    for (const std::string& line : store.TakeJournal()) Say(line);
    store.Read([&](const Received& r) {
      Expect(r.Encode(0) == before, "the store reloaded from its state file exactly the data it held");
    });
    fedhub::v1::CatalogueItem course = CourseItem("course-101");
    course.set_price_minor(3900);
    const uint64_t offset = Must(courses_->PublishItem(course), "changing a course price");
    Step("courses", "cut the price of " + course.item_id() + " to 39.00 EUR; published at offset " + N(offset));
    Await(store, course.item_id() + "'s new price after the restart", [&](const Received& r) {
      const auto* item = r.Item(CoursePlatform::kId, course.item_id());
      return item != nullptr && item->item.price_minor() == 3900;
    });
    store.Read([&](const Received& r) {
      Expect(r.counts.total() == delivered_before + 1, "the resumed subscription delivered nothing twice");
    });
    Step("store", "after the restart exactly one event arrived: nothing before its stored cursor came again");

    const auto courses_published = courses_->exchange().publisher_stats();
    const auto store_published = store.publisher_stats();
    Say("published: courses " + N(courses_published.events_acknowledged) + " events stored and " +
        N(courses_published.events_failed) + " refused by the hub; store " + N(store_published.events_acknowledged) +
        " events stored");
    store.Read([&](const Received& r) {
      const auto& c = r.counts;
      Expect(c.profile_updates == 3 && c.erasure_notices == 1 && c.stale_profile_updates == 0,
             "the store received 3 profile updates and 1 erasure notice");
      Say("delivered to store: " + N(c.total()) + " events: " + N(c.snapshot_items) + " catalogue snapshot items, " +
          N(c.catalogue_changes) + " live catalogue changes, " + N(c.profile_updates) + " profile updates, " +
          N(c.erasure_notices) + " erasure notice (acknowledged)");
      Say("withheld from store: " + N(profile_changes_ - c.profile_updates) + " of " + N(profile_changes_) +
          " stored profile changes (Ada's v2, after the revocation); Ada's e-mail, Grace's enrolments");
    });
    courses_->exchange().Read([&](const Received& r) {
      Say("delivered to courses: " + N(r.counts.total()) + " events: " + N(r.counts.snapshot_items) +
          " catalogue snapshot items, " + N(r.counts.catalogue_changes) + " live catalogue change");
    });

    auto body = Must(fedhub::VerifyReceipt(revoked_.receipt(), hub_key_), "verifying the revocation receipt");
    Expect(body.action() == fedhub::v1::RECEIPT_ACTION_REVOKE && body.consent().consent_id() == ada_consent_,
           "the revocation receipt attests the revocation of Ada's consent");
    Say("revocation receipt verified offline with hub key " + fedhub::HubKeyId(hub_key_) + ": " +
        fedhub_examples::ReceiptActionName(body.action()) + " of " + Abbreviate(ada_consent_) + " by " +
        body.consent().revoked_by_platform_id() + ", ledger entry " + N(body.ledger_sequence()));

    fedhub::Client auditor = Connect("auditor");
    uint64_t erasure_entry = 0;
    const uint64_t ledger = VerifyChain(auditor, fedhub::v1::CHAIN_LEDGER, &erasure_entry);
    const uint64_t audit = VerifyChain(auditor, fedhub::v1::CHAIN_AUDIT, &erasure_entry);
    Expect(erasure_entry != 0, "the audit log records the store's erasure acknowledgement");
    Step("auditor", "consent ledger verified entry by entry: " + N(ledger) + " entries");
    Step("auditor", "audit log verified entry by entry: " + N(audit) + " entries; entry " + N(erasure_entry) +
                        " is the store's acknowledgement that it erased Ada's data");
  }

  void AuditorsReport() {
    Heading("6. The auditor's consent report on Ada, proved against a signed tree head");
    fedhub::Client auditor = Connect("auditor");
    auto report = Must(fedhub_examples::ReportAndProve(auditor, hub_key_, CoursePlatform::kId, ada_),
                       "reading and proving Ada's consent report");
    const auto& h = report.head;
    Step("auditor", "the hub signed tree head #" + N(h.number()) + " over " + N(h.tree_size()) +
                        " audit entries; signature verified with hub key " + h.key_id());
    Step("auditor", "report on " + ada_ + " at courses, read at that head: " + N(report.lines.size()) + " lines");
    bool granted = false, access = false, revoked = false, acked = false;
    for (const auto& line : report.lines) {
      Say("  " + fedhub_examples::DescribeReportLine(line));
      granted |= line.kind() == "consent.granted";
      access |= line.kind() == "access";
      revoked |= line.kind() == "consent.revoked";
      acked |= line.kind() == "erasure.ack";
    }
    Expect(granted && access && revoked && acked,
           "the report shows Ada's consent granted, her data delivered, the revocation and the store's erasure");
    Step("auditor", "line #" + N(report.proved.audit_sequence()) + " proved in head #" + N(h.number()) +
                        ": entry hash recomputed, audit path of " + N(report.audit_path_hashes) +
                        " hashes leads to the signed root — verified offline with the hub's key alone");
  }

  // The course site's catalogue item `id`.
  fedhub::v1::CatalogueItem CourseItem(const std::string& id) {
    for (auto& item : courses_->Catalogue()) {
      if (item.item_id() == id) return item;
    }
    Fail("finding " + id, absl::NotFoundError("the course site has no item " + id));
  }

  // Publishes the learner's profile and tells what was sent; returns its offset.
  uint64_t PublishProfile(const std::string& learner, const std::string& version) {
    auto fields = Must(courses_->SharedProfile(learner), "reading a learner's profile");
    const uint64_t offset = Must(courses_->PublishProfile(learner), "publishing " + learner + "'s profile");
    ++profile_changes_;
    Step("courses", "published " + learner + "'s profile change " + version + " at offset " + N(offset) +
                        " (PROFILE, CONTACT, LEARNING): " + FieldsSummary(fields));
    return offset;
  }

  // Reads a whole chain and verifies every entry on this side; returns the entry count.
  // Sets `erasure_entry` to the audit entry of the store's acknowledgement for Ada's consent.
  uint64_t VerifyChain(fedhub::Client& auditor, fedhub::v1::Chain chain, uint64_t* erasure_entry) {
    fedhub::ChainVerifier verifier(chain);
    fedhub::v1::ChainHead head;
    for (uint64_t next = 1; next != 0;) {
      auto page = Must(auditor.ListChainEntries(chain, next, 1000), "reading the chain");
      for (const auto& entry : page.entries()) {
        Check(verifier.Add(entry), "verifying chain entry " + N(entry.sequence()));
        if (entry.has_audit() && entry.audit().action() == "stream.erasure_ack" &&
            entry.audit().consent_id() == ada_consent_ && entry.audit().actor_id() == DesignStore::kId) {
          *erasure_entry = entry.sequence();
        }
      }
      next = page.next_sequence();
      head = page.head();
    }
    Check(verifier.CheckHead(head), "checking the chain head");
    return verifier.entries_checked();
  }

  const Args args_;
  const std::chrono::milliseconds timeout_;
  fedhub::Client operator_ = Connect("operator");
  std::string hub_key_;
  std::unique_ptr<CoursePlatform> courses_;
  std::unique_ptr<DesignStore> store_;
  std::string ada_, ada_customer_, ada_consent_, grace_, grace_pseudonym_;
  fedhub::v1::RevokeConsentResponse revoked_;
  uint64_t profile_changes_ = 0;  // profile changes the course site had stored
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 < argc && flag == "--endpoint") {
      args.endpoint = argv[++i];
    } else if (i + 1 < argc && flag == "--certs") {
      args.certs = argv[++i];
    } else if (i + 1 < argc && flag == "--state-dir") {
      args.state_dir = argv[++i];
    } else if (i + 1 < argc && flag == "--timeout-seconds" && std::atoi(argv[i + 1]) > 0) {
      args.timeout_seconds = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: fedhub_demo [--endpoint HOST:PORT] [--certs DIR] [--state-dir DIR] "
                   "[--timeout-seconds N]\n";
      return 64;
    }
  }
  std::error_code error;
  if (args.state_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "fedhub-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::cerr << "fedhub_demo: cannot create a state directory under " << pattern << "; pass --state-dir\n";
      return 1;
    }
    args.state_dir = pattern;
  } else if (std::filesystem::create_directories(args.state_dir, error); error) {
    std::cerr << "fedhub_demo: cannot create --state-dir " << args.state_dir << ": " << error.message() << "\n";
    return 1;
  }
  Scenario(std::move(args)).Run();
  return 0;
}
