// The hub's domain assembled as hub/app/hub.cc assembles it (store, signing key,
// pseudonyms, audit log, registry, linker, consents), over a fresh directory per test,
// without gRPC or metrics.
#ifndef FEDHUB_TESTS_DOMAIN_DOMAIN_FIXTURE_H_
#define FEDHUB_TESTS_DOMAIN_DOMAIN_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "consent/consent_manager.h"
#include "core/chain_codec.h"
#include "core/crypto.h"
#include "identity/caller.h"
#include "identity/pseudonyms.h"
#include "linking/linker.h"
#include "registry/registry.h"
#include "scratch_dir.h"
#include "storage/store.h"

namespace fedhub::testing {

class DomainTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenDomain()); }
  void TearDown() override { CloseDomain(); }

  // Opens every domain object over the directory; the same data on a second call.
  void OpenDomain() {
    storage::StoreOptions so;
    so.path = dir_.Sub("data");
    auto store = storage::Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto key = crypto::SigningKey::LoadOrCreate(dir_.Sub("signing.key"));
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::move(*key);
    auto pseudonyms = Pseudonymizer::Open(store_.get());
    ASSERT_TRUE(pseudonyms.ok()) << pseudonyms.status();
    pseudonyms_ = std::move(*pseudonyms);
    audit_ = std::make_unique<audit::AuditLog>(store_.get());
    auto registry = registry::Registry::Open(store_.get(), audit_.get(), {"operator"});
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    linker_ = std::make_unique<linking::Linker>(store_.get(), audit_.get(), pseudonyms_.get(),
                                                link_options_);
    auto consents = consent::ConsentManager::Open(store_.get(), audit_.get(), registry_.get(),
                                                  linker_.get(), pseudonyms_.get(), key_.get(),
                                                  consent_options_);
    ASSERT_TRUE(consents.ok()) << consents.status();
    consents_ = std::move(*consents);
  }

  // Drops the domain objects before the store, as Hub's destructor does.
  void CloseDomain() {
    consents_.reset();
    linker_.reset();
    registry_.reset();
    audit_.reset();
    pseudonyms_.reset();
    key_.reset();
    store_.reset();
  }

  void ReopenDomain() {
    CloseDomain();
    ASSERT_NO_FATAL_FAILURE(OpenDomain());
  }

  static Caller Admin() { return Caller{"operator", fedhub::v1::ROLE_ADMIN, ""}; }
  static Caller Platform(const std::string& id) { return Caller{id, fedhub::v1::ROLE_PLATFORM, ""}; }

  void RegisterPlatform(const std::string& id) {
    fedhub::v1::Principal p;
    p.set_id(id);
    p.set_role(fedhub::v1::ROLE_PLATFORM);
    p.set_display_name(id);
    auto r = registry_->Register(Admin(), p);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  std::vector<fedhub::v1::ChainEntry> Entries(audit::HashChain& chain) {
    auto entries = chain.Read(1, 100000);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<fedhub::v1::ChainEntry>{};
  }
  std::vector<fedhub::v1::AuditRecord> AuditRecords() {
    std::vector<fedhub::v1::AuditRecord> out;
    for (const auto& e : Entries(audit_->chain())) out.push_back(e.audit());
    return out;
  }
  fedhub::v1::AuditRecord LastAudit() {
    auto all = AuditRecords();
    EXPECT_FALSE(all.empty());
    return all.empty() ? fedhub::v1::AuditRecord{} : all.back();
  }
  std::vector<fedhub::v1::LedgerRecord> LedgerRecords() {
    std::vector<fedhub::v1::LedgerRecord> out;
    for (const auto& e : Entries(consents_->ledger())) out.push_back(e.ledger());
    return out;
  }
  uint64_t AuditSize() { return audit_->chain().Head()->sequence; }
  uint64_t LedgerSize() { return consents_->ledger().Head()->sequence; }

  // Options the next OpenDomain uses.
  linking::LinkOptions link_options_;
  consent::ConsentOptions consent_options_;

  ScratchDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<crypto::SigningKey> key_;
  std::unique_ptr<Pseudonymizer> pseudonyms_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<linking::Linker> linker_;
  std::unique_ptr<consent::ConsentManager> consents_;
};

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_DOMAIN_DOMAIN_FIXTURE_H_
