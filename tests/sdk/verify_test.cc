// fedhub::VerifyReceipt and fedhub::ChainVerifier on receipts and chains built with the
// core's signer and chain codec (the code the hub uses).
#include "fedhub/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <vector>

#include "core/chain_codec.h"
#include "core/crypto.h"
#include "core/receipt.h"
#include "core/strings.h"
#include "fake_connection.h"
#include "fedhub/client.h"

namespace fedhub {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<crypto::SigningKey> NewKey() {
  auto key = crypto::SigningKey::Generate();
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

v1::ReceiptBody SampleBody(const crypto::SigningKey& key) {
  v1::ReceiptBody body;
  body.set_action(v1::RECEIPT_ACTION_GRANT);
  body.mutable_consent()->set_consent_id("c-1");
  body.set_issued_to_platform_id("courses");
  body.set_ledger_sequence(17);
  body.set_ledger_entry_hash(std::string(32, '\x5a'));
  body.mutable_issued_at()->set_seconds(1700000000);
  body.set_signing_key_id(key.key_id());
  return body;
}

std::string Msg(const absl::Status& s) { return std::string(ToStd(s.message())); }

// --- Receipts -----------------------------------------------------------------------------

TEST(sdkVerifyReceipt, AcceptsAReceiptSignedByTheHubKey) {
  auto key = NewKey();
  const v1::ReceiptBody body = SampleBody(*key);
  const v1::ConsentReceipt receipt = receipt::Sign(*key, body);
  auto verified = VerifyReceipt(receipt, key->public_key());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->SerializeAsString(), body.SerializeAsString());
  EXPECT_EQ(verified->ledger_sequence(), 17u);
}

TEST(sdkVerifyReceipt, AcceptsAReceiptWithoutKeyId) {
  auto key = NewKey();
  v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  receipt.clear_signing_key_id();
  EXPECT_TRUE(VerifyReceipt(receipt, key->public_key()).ok());
}

TEST(sdkVerifyReceipt, AlteredBodyIsUnauthenticated) {
  auto key = NewKey();
  v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  v1::ReceiptBody altered = SampleBody(*key);
  altered.set_action(v1::RECEIPT_ACTION_REVOKE);
  receipt.set_body(altered.SerializeAsString());
  EXPECT_EQ(VerifyReceipt(receipt, key->public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(sdkVerifyReceipt, AlteredSignatureIsUnauthenticated) {
  auto key = NewKey();
  v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  std::string sig = receipt.signature();
  sig[10] ^= 0x01;
  receipt.set_signature(sig);
  EXPECT_EQ(VerifyReceipt(receipt, key->public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(sdkVerifyReceipt, AnotherKeyIsUnauthenticatedAndNamed) {
  auto key = NewKey();
  auto other = NewKey();
  v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  const absl::Status s = VerifyReceipt(receipt, other->public_key()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(s), HasSubstr(key->key_id()));
  EXPECT_THAT(Msg(s), HasSubstr(other->key_id()));

  receipt.clear_signing_key_id();  // no key id: only the signature can tell
  EXPECT_EQ(VerifyReceipt(receipt, other->public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(sdkVerifyReceipt, WrongKeySizeIsInvalidArgument) {
  auto key = NewKey();
  const v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  for (size_t size : {0, 31, 33, 64}) {
    const absl::Status s = VerifyReceipt(receipt, std::string(size, 'k')).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_THAT(Msg(s), HasSubstr("32"));
  }
}

TEST(sdkVerifyReceipt, WrongSignatureSizeIsInvalidArgument) {
  auto key = NewKey();
  v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  for (size_t size : {0, 63, 65}) {
    receipt.set_signature(std::string(size, 's'));
    const absl::Status s = VerifyReceipt(receipt, key->public_key()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_THAT(Msg(s), HasSubstr("64"));
  }
}

TEST(sdkVerifyReceipt, SignedBodyThatDoesNotParseIsInvalidArgument) {
  auto key = NewKey();
  v1::ConsentReceipt receipt;
  receipt.set_body(std::string("\xff\xff\xff\xff", 4));
  receipt.set_signature(key->Sign(receipt::SignedMessage(receipt.body())));
  receipt.set_signing_key_id(key->key_id());
  EXPECT_EQ(VerifyReceipt(receipt, key->public_key()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(sdkVerifyReceipt, SignatureCoversTheDomainTag) {
  // A signature over the bare body (no "fedhub.receipt.v1" prefix) must not verify.
  auto key = NewKey();
  v1::ConsentReceipt receipt;
  receipt.set_body(SampleBody(*key).SerializeAsString());
  receipt.set_signature(key->Sign(receipt.body()));
  EXPECT_EQ(VerifyReceipt(receipt, key->public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(sdkHubKey, PemRoundTripAndKeyId) {
  auto key = NewKey();
  auto raw = HubPublicKeyFromPem(key->PublicKeyPem());
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw, key->public_key());
  EXPECT_EQ(HubKeyId(*raw), key->key_id());
  EXPECT_EQ(HubKeyId(*raw).size(), 16u);
  EXPECT_EQ(HubKeyId(*raw), crypto::HexEncode(crypto::AsView(crypto::Sha256(*raw))).substr(0, 16));
}

TEST(sdkHubKey, RejectsNonPemAndNonEd25519) {
  EXPECT_EQ(HubPublicKeyFromPem("not a key").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HubPublicKeyFromPem(NewKey()->PrivateKeyPem()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, ec);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  EXPECT_EQ(HubPublicKeyFromPem(pem).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(sdkClientVerifyReceipt, UsesTheKeyTheHubReports) {
  auto key = NewKey();
  auto fake = std::make_shared<testing::FakeConnection>();
  fake->hub_info.set_signing_public_key(key->public_key());
  Client client(fake);
  const v1::ConsentReceipt receipt = receipt::Sign(*key, SampleBody(*key));
  EXPECT_TRUE(client.VerifyReceipt(receipt).ok());

  fake->hub_info.set_signing_public_key(NewKey()->public_key());
  EXPECT_EQ(client.VerifyReceipt(receipt).status().code(), absl::StatusCode::kUnauthenticated);

  fake->FailNext(1, absl::StatusCode::kPermissionDenied, "not a member");
  EXPECT_EQ(client.VerifyReceipt(receipt).status().code(), absl::StatusCode::kPermissionDenied);
}

// --- Chains -------------------------------------------------------------------------------

v1::AuditRecord AuditRecordN(uint64_t n) {
  v1::AuditRecord r;
  r.mutable_time()->set_seconds(1700000000 + static_cast<int64_t>(n));
  r.set_actor_id(Cat("platform-", n));
  r.set_actor_role(v1::ROLE_PLATFORM);
  r.set_action("consent.grant");
  r.set_subject(Cat("subject-", n));
  r.add_categories(v1::DATA_CATEGORY_LEARNING);
  r.add_purposes(v1::PURPOSE_SYNC);
  r.set_consent_id(Cat("c-", n));
  r.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  r.set_detail("ok");
  return r;
}

v1::LedgerRecord LedgerRecordN(uint64_t n) {
  v1::LedgerRecord r;
  r.mutable_time()->set_seconds(1700000000 + static_cast<int64_t>(n));
  r.set_action(v1::LEDGER_ACTION_GRANT);
  r.set_consent_id(Cat("c-", n));
  r.set_subject("s-1");
  r.set_source_platform_id("courses");
  r.set_target_platform_id("library");
  r.add_categories(v1::DATA_CATEGORY_LEARNING);
  r.add_purposes(v1::PURPOSE_SYNC);
  r.set_evidence_method("web-form");
  r.set_actor_platform_id("courses");
  return r;
}

// A well-formed chain of `n` entries, as the hub would list it.
std::vector<v1::ChainEntry> BuildChain(v1::Chain chain, uint64_t n) {
  std::vector<v1::ChainEntry> entries;
  crypto::Digest prev = chain::GenesisHash();
  for (uint64_t seq = 1; seq <= n; ++seq) {
    const std::string encoded = chain == v1::CHAIN_LEDGER ? chain::EncodeLedger(LedgerRecordN(seq))
                                                          : chain::EncodeAudit(AuditRecordN(seq));
    const crypto::Digest hash = chain::EntryHash(chain::DomainOf(chain), prev, seq, encoded);
    v1::ChainEntry e;
    e.set_sequence(seq);
    e.set_prev_hash(crypto::ToString(prev));
    e.set_entry_hash(crypto::ToString(hash));
    e.set_encoded(encoded);
    entries.push_back(e);
    prev = hash;
  }
  return entries;
}

v1::ChainHead HeadOf(v1::Chain chain, const std::vector<v1::ChainEntry>& entries) {
  v1::ChainHead head;
  head.set_chain(chain);
  head.set_size(entries.size());
  head.set_head_hash(entries.empty() ? std::string(32, '\0') : entries.back().entry_hash());
  return head;
}

class ChainVerifierTest : public ::testing::TestWithParam<v1::Chain> {};

using sdkChainVerifier = ChainVerifierTest;

TEST_P(sdkChainVerifier, AcceptsAWellFormedChainAndItsHead) {
  const auto entries = BuildChain(GetParam(), 25);
  ChainVerifier verifier(GetParam());
  EXPECT_EQ(verifier.head_hash(), std::string(32, '\0'));
  EXPECT_EQ(verifier.next_sequence(), 1u);
  for (const auto& e : entries) ASSERT_TRUE(verifier.Add(e).ok()) << e.sequence();
  EXPECT_EQ(verifier.entries_checked(), 25u);
  EXPECT_EQ(verifier.next_sequence(), 26u);
  EXPECT_EQ(verifier.head_hash(), entries.back().entry_hash());
  EXPECT_TRUE(verifier.CheckHead(HeadOf(GetParam(), entries)).ok());
}

TEST_P(sdkChainVerifier, EmptyChainMatchesAnEmptyHead) {
  ChainVerifier verifier(GetParam());
  EXPECT_TRUE(verifier.CheckHead(HeadOf(GetParam(), {})).ok());
}

TEST_P(sdkChainVerifier, GapsAndRepeatsAreDataLoss) {
  const auto entries = BuildChain(GetParam(), 5);
  ChainVerifier verifier(GetParam());
  ASSERT_TRUE(verifier.Add(entries[0]).ok());
  ASSERT_TRUE(verifier.Add(entries[1]).ok());
  absl::Status gap = verifier.Add(entries[3]);
  EXPECT_EQ(gap.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(gap), HasSubstr("entry 4"));
  EXPECT_THAT(Msg(gap), HasSubstr("expected sequence 3"));
  EXPECT_EQ(verifier.Add(entries[1]).code(), absl::StatusCode::kDataLoss);  // repeat
  // The last good state is kept: the right entry still fits.
  EXPECT_EQ(verifier.next_sequence(), 3u);
  EXPECT_EQ(verifier.entries_checked(), 2u);
  EXPECT_TRUE(verifier.Add(entries[2]).ok());
}

TEST_P(sdkChainVerifier, BrokenLinkIsDataLoss) {
  auto entries = BuildChain(GetParam(), 3);
  ChainVerifier verifier(GetParam());
  ASSERT_TRUE(verifier.Add(entries[0]).ok());
  v1::ChainEntry bad = entries[1];
  bad.set_prev_hash(std::string(32, '\x01'));
  const absl::Status s = verifier.Add(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(s), HasSubstr("prev_hash"));
}

TEST_P(sdkChainVerifier, AlteredContentIsDataLoss) {
  auto entries = BuildChain(GetParam(), 3);
  ChainVerifier verifier(GetParam());
  ASSERT_TRUE(verifier.Add(entries[0]).ok());
  v1::ChainEntry bad = entries[1];
  std::string encoded = bad.encoded();
  encoded.back() ^= 0x20;
  bad.set_encoded(encoded);
  const absl::Status s = verifier.Add(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(s), HasSubstr("does not match its hash"));

  bad = entries[1];
  bad.set_entry_hash(std::string(32, '\x07'));
  EXPECT_EQ(verifier.Add(bad).code(), absl::StatusCode::kDataLoss);
}

TEST_P(sdkChainVerifier, ConsistentHashOverUndecodableBytesIsDataLoss) {
  const std::string garbage = "\x01trailing nonsense";
  const crypto::Digest hash =
      chain::EntryHash(chain::DomainOf(GetParam()), chain::GenesisHash(), 1, garbage);
  v1::ChainEntry e;
  e.set_sequence(1);
  e.set_prev_hash(std::string(32, '\0'));
  e.set_entry_hash(crypto::ToString(hash));
  e.set_encoded(garbage);
  ChainVerifier verifier(GetParam());
  EXPECT_EQ(verifier.Add(e).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(verifier.entries_checked(), 0u);
}

TEST_P(sdkChainVerifier, DecodedRecordIsIgnored) {
  auto entries = BuildChain(GetParam(), 2);
  entries[0].mutable_audit()->set_actor_id("the hub's convenience copy says anything");
  ChainVerifier verifier(GetParam());
  EXPECT_TRUE(verifier.Add(entries[0]).ok());
  EXPECT_TRUE(verifier.Add(entries[1]).ok());
}

TEST_P(sdkChainVerifier, HeadMismatchIsDataLoss) {
  const auto entries = BuildChain(GetParam(), 4);
  ChainVerifier verifier(GetParam());
  for (const auto& e : entries) ASSERT_TRUE(verifier.Add(e).ok());
  v1::ChainHead head = HeadOf(GetParam(), entries);
  head.set_size(5);
  absl::Status s = verifier.CheckHead(head);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(s), HasSubstr("5 entries"));
  head = HeadOf(GetParam(), entries);
  head.set_head_hash(entries[2].entry_hash());
  s = verifier.CheckHead(head);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(s), HasSubstr("head hash"));
}

TEST_P(sdkChainVerifier, StartAtATrustedPoint) {
  const auto entries = BuildChain(GetParam(), 10);
  ChainVerifier verifier(GetParam());
  ASSERT_TRUE(verifier.StartAt(6, entries[4].entry_hash()).ok());
  for (size_t i = 5; i < entries.size(); ++i) ASSERT_TRUE(verifier.Add(entries[i]).ok());
  EXPECT_EQ(verifier.entries_checked(), 5u);
  EXPECT_TRUE(verifier.CheckHead(HeadOf(GetParam(), entries)).ok());

  ChainVerifier wrong(GetParam());
  ASSERT_TRUE(wrong.StartAt(6, entries[3].entry_hash()).ok());
  EXPECT_EQ(wrong.Add(entries[5]).code(), absl::StatusCode::kDataLoss);
}

TEST_P(sdkChainVerifier, StartAtRejectsBadArguments) {
  ChainVerifier verifier(GetParam());
  EXPECT_EQ(verifier.StartAt(3, std::string(31, 'h')).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(verifier.StartAt(0, std::string(32, 'h')).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(verifier.next_sequence(), 1u);
}

TEST_P(sdkChainVerifier, IsMovable) {
  const auto entries = BuildChain(GetParam(), 3);
  ChainVerifier a(GetParam());
  ASSERT_TRUE(a.Add(entries[0]).ok());
  ChainVerifier b(std::move(a));
  ASSERT_TRUE(b.Add(entries[1]).ok());
  ChainVerifier c(GetParam());
  c = std::move(b);
  ASSERT_TRUE(c.Add(entries[2]).ok());
  EXPECT_TRUE(c.CheckHead(HeadOf(GetParam(), entries)).ok());
}

INSTANTIATE_TEST_SUITE_P(sdk, sdkChainVerifier,
                         ::testing::Values(v1::CHAIN_AUDIT, v1::CHAIN_LEDGER),
                         [](const auto& info) {
                           return info.param == v1::CHAIN_LEDGER ? std::string("Ledger")
                                                                 : std::string("Audit");
                         });

TEST(sdkChainVerifierDomain, LedgerEntriesDoNotVerifyAsAudit) {
  const auto ledger = BuildChain(v1::CHAIN_LEDGER, 1);
  ChainVerifier audit(v1::CHAIN_AUDIT);
  EXPECT_EQ(audit.Add(ledger[0]).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fedhub
