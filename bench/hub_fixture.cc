#include "hub_fixture.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "core/strings.h"
#include "devcerts/devcerts.h"
#include "fedhub/storage/v1/records.pb.h"
#include "storage/keys.h"

namespace fedhub::bench {

using storage::Cf;

std::string HubFixture::SourceUser(int i) { return Cat("u-", i); }

v1::GrantConsentRequest HubFixture::GrantFor(int i, uint64_t n) {
  v1::GrantConsentRequest r;
  r.mutable_user()->set_local_user_id(SourceUser(i));
  r.set_target_platform_id(kTarget);
  r.add_categories(v1::DATA_CATEGORY_LEARNING);
  r.add_purposes(v1::PURPOSE_SYNC);
  r.mutable_evidence()->set_method("web-form");
  r.mutable_evidence()->set_reference(Cat("form-", i, "-", n));
  return r;
}

absl::StatusOr<Client> HubFixture::NewSourceClient() const {
  return Client::Connect(ClientOptions::ForPrincipal(certs_dir_, kSource, endpoint()));
}

std::string HubFixture::endpoint() const { return Cat("127.0.0.1:", server_->port()); }

absl::StatusOr<std::unique_ptr<HubFixture>> HubFixture::Start(const std::string& root, int people) {
  std::unique_ptr<HubFixture> f(new HubFixture());
  f->certs_dir_ = root + "/certs";
  f->people_ = people;

  devcerts::DevCertsOptions dc;
  dc.out_dir = f->certs_dir_;
  dc.principals = {{"admin", "operator"}, {"platform", kSource}, {"platform", kTarget}};
  if (absl::Status s = devcerts::GenerateDevCerts(dc); !s.ok()) return s;

  config::HubConfig config;
  config.listen = "127.0.0.1:0";
  config.health_listen.clear();
  config.metrics_listen.clear();
  config.data_dir = root + "/hub-data";
  config.tls_cert = f->certs_dir_ + "/hub.crt";
  config.tls_key = f->certs_dir_ + "/hub.key";
  config.tls_ca = f->certs_dir_ + "/ca.crt";
  config.signing_key = root + "/signing.key";
  config.bootstrap_admins = {"operator"};
  HubOpenOptions open;
  open.sync_writes = true;  // what fedhubd always does
  auto hub = Hub::Open(config, open);
  if (!hub.ok()) return hub.status();
  f->hub_ = std::move(*hub);
  auto server = server::Server::Start(*f->hub_);
  if (!server.ok()) return server.status();
  f->server_ = std::move(*server);

  auto admin =
      Client::Connect(ClientOptions::ForPrincipal(f->certs_dir_, "operator", f->endpoint()));
  if (!admin.ok()) return admin.status();
  for (const char* id : {kSource, kTarget}) {
    v1::Principal p;
    p.set_id(id);
    p.set_role(v1::ROLE_PLATFORM);
    p.set_display_name(Cat("bench ", id));
    if (auto r = admin->RegisterPrincipal(p); !r.ok()) return r.status();
  }
  auto source = Client::Connect(ClientOptions::ForPrincipal(f->certs_dir_, kSource, f->endpoint()));
  if (!source.ok()) return source.status();
  f->source_ = std::make_unique<Client>(std::move(*source));
  auto target = Client::Connect(ClientOptions::ForPrincipal(f->certs_dir_, kTarget, f->endpoint()));
  if (!target.ok()) return target.status();
  f->target_ = std::make_unique<Client>(std::move(*target));
  if (absl::Status s = f->LinkPeople(16); !s.ok()) return s;
  return f;
}

HubFixture::~HubFixture() {
  source_.reset();
  target_.reset();
  if (server_) server_->Shutdown(std::chrono::milliseconds(2000));
  server_.reset();
  hub_.reset();
}

// Person i: "u-i" on courses, linked by a ticket to "s-i" on shop, with one consent
// from courses to shop. Runs on several threads so setup is not bound by one sync
// per step.
absl::Status HubFixture::LinkPeople(int threads) {
  std::atomic<int> next{0};
  std::mutex mu;
  absl::Status first = absl::OkStatus();
  auto work = [&] {
    for (int i = next.fetch_add(1); i < people_; i = next.fetch_add(1)) {
      absl::Status s;
      auto ticket = source_->CreateLinkTicket(SourceUser(i));
      if (!ticket.ok()) {
        s = ticket.status();
      } else if (auto r = target_->RedeemLinkTicket(ticket->ticket(), Cat("s-", i)); !r.ok()) {
        s = r.status();
      } else if (auto g = source_->GrantConsent(GrantFor(i, 0)); !g.ok()) {
        s = g.status();
      }
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (first.ok())
          first = absl::Status(s.code(), Cat("setup of person ", i, ": ", s.message()));
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  return first;
}

absl::StatusOr<std::vector<PutShape>> HubFixture::MeasureGrantShape() {
  auto granted = source_->GrantConsent(GrantFor(0, 1));
  if (!granted.ok()) return granted.status();
  const std::string& id = granted->consent().consent_id();
  const storage::Store& st = hub_->store();
  auto must = [&](Cf cf, std::string_view key,
                  std::string_view what) -> absl::StatusOr<std::string> {
    auto v = st.Get(cf, key);
    if (!v.ok()) return v.status();
    if (!*v) return absl::InternalError(Cat("the grant wrote no ", what));
    return **v;
  };
  auto ledger = must(Cf::kLedger, storage::U64Key(granted->consent().grant_ledger_sequence()),
                     "ledger entry");
  if (!ledger.ok()) return ledger.status();
  auto ledger_head = must(Cf::kMeta, storage::kLedgerHeadKey, "ledger head");
  if (!ledger_head.ok()) return ledger_head.status();
  auto consent = must(Cf::kConsents, id, "consent record");
  if (!consent.ok()) return consent.status();
  fedhub::storage::v1::ConsentRecord rec;
  if (!rec.ParseFromString(*consent)) return absl::InternalError("consent record does not parse");
  auto subject = must(Cf::kSubjects, rec.subject(), "subject record");
  if (!subject.ok()) return subject.status();
  auto audit_head = must(Cf::kMeta, storage::kAuditHeadKey, "audit head");
  if (!audit_head.ok()) return audit_head.status();
  // Nothing else runs now, so the audit head is this grant's entry.
  auto audit = must(Cf::kAudit, audit_head->substr(0, 8), "audit entry");
  if (!audit.ok()) return audit.status();

  auto cf = [](Cf c) { return static_cast<int>(c); };
  std::vector<PutShape> shape = {
      {"ledger entry", cf(Cf::kLedger), 8, ledger->size(), false},
      {"ledger head", cf(Cf::kMeta), storage::kLedgerHeadKey.size(), ledger_head->size(), true},
      {"subject", cf(Cf::kSubjects), rec.subject().size(), subject->size(), false},
      {"consent", cf(Cf::kConsents), id.size(), consent->size(), false},
      {"subject index", cf(Cf::kSubjectConsents),
       storage::SubjectConsentKey(rec.subject(), id).size(), 0, false},
      {"audit entry", cf(Cf::kAudit), 8, audit->size(), false},
      {"audit head", cf(Cf::kMeta), storage::kAuditHeadKey.size(), audit_head->size(), true},
  };
  return shape;
}

}  // namespace fedhub::bench
