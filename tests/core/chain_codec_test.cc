// The canonical encoding of ledger and audit records, the entry hash over it, and the
// verifier that walks a chain. EncodingIsTheDocumentedBytes spells the format out byte
// by byte: an implementation in another language can be checked against it.
#include "core/chain_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/crypto.h"

namespace fedhub::chain {
namespace {

using fedhub::v1::AuditRecord;
using fedhub::v1::ChainEntry;
using fedhub::v1::LedgerRecord;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Raw bytes from their values.
std::string B(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

std::string Hex(std::string_view bytes) { return crypto::HexEncode(bytes); }

// 2023-11-14T22:13:20.123456Z
google::protobuf::Timestamp SampleTime() {
  google::protobuf::Timestamp t;
  t.set_seconds(1700000000);
  t.set_nanos(123456000);
  return t;
}

AuditRecord SampleAudit() {
  AuditRecord r;
  *r.mutable_time() = SampleTime();
  r.set_actor_id("plat-a");
  r.set_actor_role(fedhub::v1::ROLE_PLATFORM);
  r.set_action("consent.grant");
  r.set_subject("ab12");
  r.add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
  r.add_categories(fedhub::v1::DATA_CATEGORY_INTERESTS);
  r.add_purposes(fedhub::v1::PURPOSE_SYNC);
  r.set_consent_id("c-1");
  r.set_counterparty_id("plat-b");
  r.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
  r.set_status_code(7);
  r.set_detail("no");
  return r;
}

LedgerRecord SampleLedger() {
  LedgerRecord r;
  *r.mutable_time() = SampleTime();
  r.set_action(fedhub::v1::LEDGER_ACTION_GRANT);
  r.set_consent_id("c-1");
  r.set_subject("ab12");
  r.set_source_platform_id("plat-a");
  r.set_target_platform_id("");
  r.add_categories(fedhub::v1::DATA_CATEGORY_LEARNING);
  r.add_purposes(fedhub::v1::PURPOSE_SYNC);
  r.add_purposes(fedhub::v1::PURPOSE_RECOMMENDATION);
  r.mutable_expires_at()->set_seconds(1800000000);
  r.set_evidence_method("web-form");
  r.set_evidence_reference("r-9");
  r.set_actor_platform_id("plat-a");
  return r;
}

TEST(ChainCodec, EncodingIsTheDocumentedBytes) {
  // Audit record: fields in this order, integers big-endian, strings as u32 length + bytes,
  // enum lists as u8 count + one u8 per value.
  std::string audit;
  audit += B({0x01});                                            // u8  version = 1
  audit += B({0x00, 0x06, 0x0a, 0x24, 0x18, 0x20, 0x22, 0x40});  // i64 time, µs 1700000000123456
  audit += B({0x00, 0x00, 0x00, 0x06}) + "plat-a";               // str actor_id
  audit += B({0x01});                                            // u8  actor_role ROLE_PLATFORM
  audit += B({0x00, 0x00, 0x00, 0x0d}) + "consent.grant";        // str action
  audit += B({0x00, 0x00, 0x00, 0x04}) + "ab12";                 // str subject
  audit += B({0x02, 0x01, 0x05});                                // categories: PROFILE, INTERESTS
  audit += B({0x01, 0x01});                                      // purposes: SYNC
  audit += B({0x00, 0x00, 0x00, 0x03}) + "c-1";                  // str consent_id
  audit += B({0x00, 0x00, 0x00, 0x06}) + "plat-b";               // str counterparty_id
  audit += B({0x02});                                            // u8  outcome DENIED
  audit += B({0x00, 0x00, 0x00, 0x07});                          // u32 status_code 7
  audit += B({0x00, 0x00, 0x00, 0x02}) + "no";                   // str detail
  ASSERT_EQ(audit.size(), 78u);
  std::string encoded_audit = EncodeAudit(SampleAudit());
  EXPECT_EQ(Hex(encoded_audit), Hex(audit));

  // Ledger record.
  std::string ledger;
  ledger += B({0x01});                                            // u8  version = 1
  ledger += B({0x00, 0x06, 0x0a, 0x24, 0x18, 0x20, 0x22, 0x40});  // i64 time, µs
  ledger += B({0x01});                                            // u8  action GRANT
  ledger += B({0x00, 0x00, 0x00, 0x03}) + "c-1";                  // str consent_id
  ledger += B({0x00, 0x00, 0x00, 0x04}) + "ab12";                 // str subject
  ledger += B({0x00, 0x00, 0x00, 0x06}) + "plat-a";               // str source_platform_id
  ledger += B({0x00, 0x00, 0x00, 0x00});                          // str target (empty: any member)
  ledger += B({0x01, 0x03});                                      // categories: LEARNING
  ledger += B({0x02, 0x01, 0x03});                                // purposes: SYNC, RECOMMENDATION
  ledger += B({0x00, 0x06, 0x65, 0x17, 0x28, 0x98, 0x80, 0x00});  // i64 expires_at, µs 1.8e15
  ledger += B({0x00, 0x00, 0x00, 0x08}) + "web-form";             // str evidence_method
  ledger += B({0x00, 0x00, 0x00, 0x03}) + "r-9";                  // str evidence_reference
  ledger += B({0x00, 0x00, 0x00, 0x06}) + "plat-a";               // str actor_platform_id
  ASSERT_EQ(ledger.size(), 81u);
  std::string encoded_ledger = EncodeLedger(SampleLedger());
  EXPECT_EQ(Hex(encoded_ledger), Hex(ledger));

  // Entry hash = SHA-256(domain || 0x00 || prev_hash[32] || u64be(sequence) || encoded).
  // The audit record as entry 1 (prev = 32 zero bytes) ...
  std::string audit_preimage = std::string("fedhub.audit.v1") + B({0x00}) + std::string(32, '\0') +
                               B({0, 0, 0, 0, 0, 0, 0, 1}) + audit;
  crypto::Digest audit_hash = EntryHash(kAuditDomain, GenesisHash(), 1, encoded_audit);
  EXPECT_EQ(Hex(crypto::AsView(audit_hash)), Hex(crypto::AsView(crypto::Sha256(audit_preimage))));
  EXPECT_EQ(Hex(crypto::AsView(audit_hash)),
            "292da8397ffb24e91db87c58477ec30707cb9d76edddb0fd68585cab76ab32ba");

  // ... and the ledger record as entry 2 after an entry whose hash is 32 bytes of 0x11.
  crypto::Digest prev;
  prev.fill(0x11);
  std::string ledger_preimage = std::string("fedhub.ledger.v1") + B({0x00}) +
                                std::string(32, '\x11') + B({0, 0, 0, 0, 0, 0, 0, 2}) + ledger;
  crypto::Digest ledger_hash = EntryHash(kLedgerDomain, prev, 2, encoded_ledger);
  EXPECT_EQ(Hex(crypto::AsView(ledger_hash)), Hex(crypto::AsView(crypto::Sha256(ledger_preimage))));
  EXPECT_EQ(Hex(crypto::AsView(ledger_hash)),
            "1069344d9ba3b20ad1e2c3e2844877569f523416c63839974b4e92b7295e0296");
}

TEST(ChainCodec, DomainsAndGenesis) {
  EXPECT_EQ(DomainOf(fedhub::v1::CHAIN_AUDIT), "fedhub.audit.v1");
  EXPECT_EQ(DomainOf(fedhub::v1::CHAIN_LEDGER), "fedhub.ledger.v1");
  EXPECT_EQ(crypto::ToString(GenesisHash()), std::string(32, '\0'));
  // The domain separates the chains: the same bytes hash differently in each.
  EXPECT_NE(EntryHash(kAuditDomain, GenesisHash(), 1, "x"),
            EntryHash(kLedgerDomain, GenesisHash(), 1, "x"));
  EXPECT_NE(EntryHash(kAuditDomain, GenesisHash(), 1, "x"),
            EntryHash(kAuditDomain, GenesisHash(), 2, "x"));
}

TEST(ChainCodec, AuditRoundTrips) {
  AuditRecord r = SampleAudit();
  auto decoded = DecodeAudit(EncodeAudit(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->SerializeAsString(), r.SerializeAsString());

  // A default record and a time before 1970 survive too.
  AuditRecord empty;
  empty.mutable_time()->set_seconds(-1);
  empty.mutable_time()->set_nanos(500000000);
  empty.set_status_code(-3);
  auto decoded_empty = DecodeAudit(EncodeAudit(empty));
  ASSERT_TRUE(decoded_empty.ok()) << decoded_empty.status();
  EXPECT_EQ(decoded_empty->time().seconds(), -1);
  EXPECT_EQ(decoded_empty->time().nanos(), 500000000);
  EXPECT_EQ(decoded_empty->status_code(), -3);
}

TEST(ChainCodec, LedgerRoundTrips) {
  LedgerRecord r = SampleLedger();
  auto decoded = DecodeLedger(EncodeLedger(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->SerializeAsString(), r.SerializeAsString());
}

TEST(ChainCodec, TimeKeepsMicrosecondsOnly) {
  AuditRecord r;
  r.mutable_time()->set_seconds(10);
  r.mutable_time()->set_nanos(123456789);
  auto decoded = DecodeAudit(EncodeAudit(r));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->time().nanos(), 123456000);
}

TEST(ChainCodec, DecodeRejectsEveryTruncation) {
  std::string audit = EncodeAudit(SampleAudit());
  for (size_t n = 0; n < audit.size(); ++n) {
    auto r = DecodeAudit(audit.substr(0, n));
    ASSERT_FALSE(r.ok()) << "audit prefix of " << n << " bytes decoded";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  }
  std::string ledger = EncodeLedger(SampleLedger());
  for (size_t n = 0; n < ledger.size(); ++n) {
    EXPECT_FALSE(DecodeLedger(ledger.substr(0, n)).ok()) << "ledger prefix of " << n << " bytes";
  }
}

AuditRecord SampleDelivery() {
  AuditRecord r = SampleAudit();
  r.set_action("stream.deliver");
  auto* a = r.add_accesses();
  a->set_subject("ps-1");
  a->set_consent_id("c-1");
  a->set_source_platform_id("plat-a");
  a->add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
  a->set_first_offset(258);
  a->set_events(3);
  return r;
}

TEST(ChainCodec, DeliveryAccessesFollowTheDetail) {
  std::string plain = EncodeAudit(SampleAudit());
  plain.replace(plain.find("consent.grant") - 4, 17,
                B({0x00, 0x00, 0x00, 0x0e}) + "stream.deliver");
  std::string expected = plain;
  expected += B({0x00, 0x00, 0x00, 0x01});                          // u32 access count
  expected += B({0x00, 0x00, 0x00, 0x04}) + "ps-1";                 // str subject
  expected += B({0x00, 0x00, 0x00, 0x03}) + "c-1";                  // str consent_id
  expected += B({0x00, 0x00, 0x00, 0x06}) + "plat-a";               // str source_platform_id
  expected += B({0x01, 0x01});                                      // categories: PROFILE
  expected += B({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02});  // u64 first_offset 258
  expected += B({0x00, 0x00, 0x00, 0x03});                          // u32 events
  std::string encoded = EncodeAudit(SampleDelivery());
  EXPECT_EQ(Hex(encoded), Hex(expected));

  auto back = DecodeAudit(encoded);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->accesses_size(), 1);
  EXPECT_EQ(back->accesses(0).subject(), "ps-1");
  EXPECT_EQ(back->accesses(0).source_platform_id(), "plat-a");
  EXPECT_EQ(back->accesses(0).first_offset(), 258u);
  EXPECT_EQ(back->accesses(0).events(), 3u);
  ASSERT_EQ(back->accesses(0).categories_size(), 1);

  // Every cut inside the access list is refused, except the cut right after the
  // detail, which is a record without accesses.
  for (size_t n = plain.size() + 1; n < encoded.size(); ++n) {
    EXPECT_FALSE(DecodeAudit(encoded.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
  EXPECT_TRUE(DecodeAudit(plain).ok());
  // A zero count is never written, so it is refused rather than read as "no accesses".
  EXPECT_FALSE(DecodeAudit(plain + B({0, 0, 0, 0})).ok());
}

// A delivery encoded access by access (as the hub does for hundreds of people per message)
// has exactly the bytes of the same record encoded whole.
TEST(ChainCodec, EncodingAccessByAccessEqualsEncodingTheRecord) {
  AuditRecord whole = SampleDelivery();
  for (int i = 0; i < 3; ++i) {
    auto* a = whole.add_accesses();
    a->set_subject("ps-" + std::to_string(10 + i));
    a->set_consent_id("c-" + std::string(32, static_cast<char>('a' + i)));
    a->set_source_platform_id(i == 2 ? "" : "plat-b");
    for (int c : {1, 3, 5}) {
      if (c <= 2 * i + 1) a->add_categories(static_cast<fedhub::v1::DataCategory>(c));
    }
    a->set_first_offset(uint64_t{1} << (20 * i));
    a->set_events(static_cast<uint32_t>(7 * i));
  }
  AuditRecord head = whole;
  head.clear_accesses();
  AuditAccessEncoder encoder(head, static_cast<uint32_t>(whole.accesses_size()));
  for (const auto& a : whole.accesses()) {
    uint32_t bits = 0;
    for (int c : a.categories()) bits |= 1u << c;
    encoder.Add(a.subject(), a.consent_id(), a.source_platform_id(), bits, a.first_offset(), a.events());
  }
  EXPECT_EQ(Hex(std::move(encoder).Take()), Hex(EncodeAudit(whole)));

  // No accesses: the record ends after its detail, as EncodeAudit writes it.
  EXPECT_EQ(Hex(AuditAccessEncoder(SampleAudit(), 0, 100).Take()), Hex(EncodeAudit(SampleAudit())));
}

// A record encoded before its commit time is known gets the same bytes once stamped.
// CheckEncoding (what the verifier runs) accepts exactly what the decoders accept, with the
// same message: every truncation, every single-byte change and every appended byte of a
// plain audit record, a delivery record and a ledger record.
TEST(ChainCodec, CheckingAnEncodingAgreesWithDecodingIt) {
  struct Sample {
    fedhub::v1::Chain chain;
    std::string bytes;
  };
  const Sample samples[] = {{fedhub::v1::CHAIN_AUDIT, EncodeAudit(SampleAudit())},
                            {fedhub::v1::CHAIN_AUDIT, EncodeAudit(SampleDelivery())},
                            {fedhub::v1::CHAIN_LEDGER, EncodeLedger(SampleLedger())}};
  auto decode = [](fedhub::v1::Chain chain, std::string_view b) {
    return chain == fedhub::v1::CHAIN_LEDGER ? DecodeLedger(b).status() : DecodeAudit(b).status();
  };
  int refused = 0;
  for (const Sample& s : samples) {
    std::vector<std::string> variants;
    for (size_t n = 0; n <= s.bytes.size(); ++n) variants.push_back(s.bytes.substr(0, n));
    for (size_t i = 0; i < s.bytes.size(); ++i) {
      for (int bit : {0x01, 0x80, 0xff}) {
        std::string v = s.bytes;
        v[i] = static_cast<char>(v[i] ^ bit);
        variants.push_back(v);
      }
    }
    variants.push_back(s.bytes + std::string(1, '\0'));
    variants.push_back(s.bytes + std::string("\0\0\0\1", 4));
    for (const std::string& v : variants) {
      const absl::Status checked = CheckEncoding(s.chain, v);
      ASSERT_EQ(checked, decode(s.chain, v)) << Hex(v);
      refused += !checked.ok();
    }
  }
  EXPECT_GT(refused, 100);
}

TEST(ChainCodec, StampingTheTimeEqualsEncodingWithIt) {
  AuditRecord r = SampleDelivery();
  r.clear_time();
  std::string early = EncodeAudit(r);
  const int64_t micros = 1'765'000'000'123'456;
  SetEncodedAuditTime(&early, micros);
  r.mutable_time()->set_seconds(micros / 1'000'000);
  r.mutable_time()->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  EXPECT_EQ(Hex(early), Hex(EncodeAudit(r)));
  auto back = DecodeAudit(early);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->time().seconds(), micros / 1'000'000);
}

TEST(ChainCodec, DecodeRejectsTrailingBytesAndUnknownVersion) {
  std::string audit = EncodeAudit(SampleAudit());
  EXPECT_FALSE(DecodeAudit(audit + "x").ok());
  auto trailing = DecodeAudit(EncodeAudit(SampleDelivery()) + "x");
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(std::string(trailing.status().message()), HasSubstr("trailing"));
  EXPECT_FALSE(DecodeLedger(EncodeLedger(SampleLedger()) + B({0})).ok());

  std::string v2 = audit;
  v2[0] = 2;
  auto unknown = DecodeAudit(v2);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("version 2"));
  std::string lv2 = EncodeLedger(SampleLedger());
  lv2[0] = 2;
  EXPECT_FALSE(DecodeLedger(lv2).ok());
}

TEST(ChainCodec, StoredFormPacksAndUnpacks) {
  crypto::Digest prev, hash;
  prev.fill(0xaa);
  hash.fill(0xbb);
  std::string packed = PackStored(prev, hash, "payload");
  ASSERT_EQ(packed.size(), 64u + 7u);
  EXPECT_EQ(packed.substr(0, 32), std::string(32, '\xaa'));
  EXPECT_EQ(packed.substr(32, 32), std::string(32, '\xbb'));
  EXPECT_EQ(packed.substr(64), "payload");
  auto e = UnpackStored(packed);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->prev_hash, prev);
  EXPECT_EQ(e->entry_hash, hash);
  EXPECT_EQ(e->encoded, "payload");

  auto short_value = UnpackStored(packed.substr(0, 63));
  ASSERT_FALSE(short_value.ok());
  EXPECT_EQ(short_value.status().code(), absl::StatusCode::kDataLoss);
}

// A well-formed chain of `n` audit entries.
std::vector<ChainEntry> AuditChain(int n, fedhub::v1::Chain chain = fedhub::v1::CHAIN_AUDIT) {
  std::vector<ChainEntry> out;
  crypto::Digest prev = GenesisHash();
  for (int i = 1; i <= n; ++i) {
    std::string encoded;
    if (chain == fedhub::v1::CHAIN_LEDGER) {
      LedgerRecord r = SampleLedger();
      r.set_consent_id("c-" + std::to_string(i));
      encoded = EncodeLedger(r);
    } else {
      AuditRecord r = SampleAudit();
      r.set_detail("entry " + std::to_string(i));
      encoded = EncodeAudit(r);
    }
    crypto::Digest hash = EntryHash(DomainOf(chain), prev, static_cast<uint64_t>(i), encoded);
    ChainEntry e;
    e.set_sequence(static_cast<uint64_t>(i));
    e.set_prev_hash(crypto::ToString(prev));
    e.set_entry_hash(crypto::ToString(hash));
    e.set_encoded(encoded);
    out.push_back(e);
    prev = hash;
  }
  return out;
}

TEST(ChainVerifier, AcceptsAGoodChain) {
  auto chain = AuditChain(5);
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  for (const auto& e : chain) ASSERT_TRUE(v.Add(e).ok()) << "entry " << e.sequence();
  EXPECT_EQ(v.entries_checked(), 5u);
  EXPECT_EQ(v.next_sequence(), 6u);
  EXPECT_EQ(crypto::ToString(v.head_hash()), chain.back().entry_hash());
}

TEST(ChainVerifier, NamesAGap) {
  auto chain = AuditChain(3);
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  ASSERT_TRUE(v.Add(chain[0]).ok());
  absl::Status s = v.Add(chain[2]);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 3: expected sequence 2"));
}

TEST(ChainVerifier, NamesARepeatedEntry) {
  auto chain = AuditChain(2);
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  ASSERT_TRUE(v.Add(chain[0]).ok());
  absl::Status s = v.Add(chain[0]);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 1: expected sequence 2"));
}

TEST(ChainVerifier, NamesABadPrevHash) {
  auto chain = AuditChain(3);
  std::string prev = chain[1].prev_hash();
  prev[0] ^= 1;
  chain[1].set_prev_hash(prev);
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  ASSERT_TRUE(v.Add(chain[0]).ok());
  absl::Status s = v.Add(chain[1]);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 2: prev_hash does not match"));
}

TEST(ChainVerifier, NamesContentThatDoesNotMatchItsHash) {
  auto chain = AuditChain(3);
  std::string encoded = chain[1].encoded();
  encoded.back() ^= 1;  // one bit of the detail
  chain[1].set_encoded(encoded);
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  ASSERT_TRUE(v.Add(chain[0]).ok());
  absl::Status s = v.Add(chain[1]);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 2: content does not match its hash"));
  // Nothing was accepted: the verifier still waits for a good entry 2.
  EXPECT_EQ(v.entries_checked(), 1u);
  EXPECT_EQ(v.next_sequence(), 2u);
}

TEST(ChainVerifier, NamesAReplacedEntryByTheOneAfterIt) {
  // Entry 2 replaced by a different record with a correct hash of its own: entry 3 no
  // longer links to it.
  auto chain = AuditChain(3);
  AuditRecord forged = SampleAudit();
  forged.set_detail("forged");
  std::string encoded = EncodeAudit(forged);
  crypto::Digest prev;
  std::copy(chain[1].prev_hash().begin(), chain[1].prev_hash().end(), prev.begin());
  chain[1].set_encoded(encoded);
  chain[1].set_entry_hash(crypto::ToString(EntryHash(kAuditDomain, prev, 2, encoded)));
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  ASSERT_TRUE(v.Add(chain[0]).ok());
  ASSERT_TRUE(v.Add(chain[1]).ok());
  absl::Status s = v.Add(chain[2]);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 3: prev_hash does not match"));
}

TEST(ChainVerifier, NamesAnEntryThatHashesButDoesNotDecode) {
  crypto::Digest hash = EntryHash(kAuditDomain, GenesisHash(), 1, "garbage");
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  absl::Status s = v.Add(1, crypto::AsView(GenesisHash()), crypto::AsView(hash), "garbage");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 1: "));
}

TEST(ChainVerifier, LedgerChainIsNamedLedger) {
  auto ledger = AuditChain(2, fedhub::v1::CHAIN_LEDGER);
  ChainVerifier v(fedhub::v1::CHAIN_LEDGER);
  ASSERT_TRUE(v.Add(ledger[0]).ok());
  ASSERT_TRUE(v.Add(ledger[1]).ok());

  // An audit chain does not verify as a ledger chain: the domain tag differs.
  auto audit = AuditChain(1);
  ChainVerifier wrong(fedhub::v1::CHAIN_LEDGER);
  absl::Status s = wrong.Add(audit[0]);
  EXPECT_THAT(std::string(s.message()), StartsWith("ledger entry 1: content does not match"));
}

TEST(ChainVerifier, StartsMidChainFromATrustedHash) {
  auto chain = AuditChain(5);
  ChainVerifier v(fedhub::v1::CHAIN_AUDIT);
  crypto::Digest trusted;
  std::copy(chain[2].entry_hash().begin(), chain[2].entry_hash().end(), trusted.begin());
  v.StartAt(4, trusted);
  ASSERT_TRUE(v.Add(chain[3]).ok());
  ASSERT_TRUE(v.Add(chain[4]).ok());
  EXPECT_EQ(v.entries_checked(), 2u);

  ChainVerifier from_start(fedhub::v1::CHAIN_AUDIT);
  absl::Status s = from_start.Add(chain[3]);
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 4: expected sequence 1"));
}

}  // namespace
}  // namespace fedhub::chain
