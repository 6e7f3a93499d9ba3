// Consent receipts: what the hub signs and what anyone can verify offline.
#include "core/receipt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/crypto.h"

namespace fedhub::receipt {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<crypto::SigningKey> NewKey() {
  auto key = crypto::SigningKey::Generate();
  EXPECT_TRUE(key.ok()) << key.status();
  return std::move(*key);
}

fedhub::v1::ReceiptBody SampleBody(const crypto::SigningKey& key) {
  fedhub::v1::ReceiptBody body;
  body.set_action(fedhub::v1::RECEIPT_ACTION_GRANT);
  body.mutable_consent()->set_consent_id("c-0123456789abcdef0123456789abcdef");
  body.mutable_consent()->mutable_user()->set_local_user_id("alice");
  body.mutable_consent()->set_source_platform_id("plat-a");
  body.mutable_consent()->add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
  body.set_issued_to_platform_id("plat-a");
  body.set_ledger_sequence(42);
  body.set_ledger_entry_hash(std::string(32, '\x07'));
  body.mutable_issued_at()->set_seconds(1700000000);
  body.set_signing_key_id(key.key_id());
  return body;
}

TEST(Receipt, SignedMessageIsDomainZeroBody) {
  EXPECT_EQ(SignedMessage("body"), std::string("fedhub.receipt.v1\0body", 22));
}

TEST(Receipt, SignsAndVerifies) {
  auto key = NewKey();
  fedhub::v1::ReceiptBody body = SampleBody(*key);
  fedhub::v1::ConsentReceipt receipt = Sign(*key, body);
  EXPECT_EQ(receipt.signature().size(), 64u);
  EXPECT_EQ(receipt.signing_key_id(), key->key_id());
  EXPECT_EQ(receipt.body(), body.SerializeAsString());
  // The signature is plain Ed25519 over the documented message.
  EXPECT_TRUE(crypto::Ed25519Verify(key->public_key(), SignedMessage(receipt.body()),
                                    receipt.signature()));

  auto verified = Verify(receipt, key->public_key());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->SerializeAsString(), body.SerializeAsString());
  EXPECT_EQ(verified->ledger_sequence(), 42u);
}

TEST(Receipt, AlteredBodyIsRefused) {
  auto key = NewKey();
  fedhub::v1::ConsentReceipt receipt = Sign(*key, SampleBody(*key));

  // Another body, re-serialised: e.g. a platform widening the consent's categories.
  fedhub::v1::ReceiptBody widened;
  ASSERT_TRUE(widened.ParseFromString(receipt.body()));
  widened.mutable_consent()->add_categories(fedhub::v1::DATA_CATEGORY_CONTACT);
  fedhub::v1::ConsentReceipt forged = receipt;
  forged.set_body(widened.SerializeAsString());
  auto r = Verify(forged, key->public_key());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);

  // One flipped bit anywhere in the body.
  for (size_t i = 0; i < receipt.body().size(); i += 7) {
    fedhub::v1::ConsentReceipt flipped = receipt;
    std::string b = flipped.body();
    b[i] ^= 0x01;
    flipped.set_body(b);
    EXPECT_EQ(Verify(flipped, key->public_key()).status().code(),
              absl::StatusCode::kUnauthenticated)
        << "bit flip at byte " << i;
  }

  // A flipped bit in the signature.
  fedhub::v1::ConsentReceipt bad_sig = receipt;
  std::string sig = bad_sig.signature();
  sig[10] ^= 0x80;
  bad_sig.set_signature(sig);
  EXPECT_EQ(Verify(bad_sig, key->public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Receipt, OtherKeyIsRefused) {
  auto key = NewKey();
  auto other = NewKey();
  fedhub::v1::ConsentReceipt receipt = Sign(*key, SampleBody(*key));

  // The key id names the key that signed it.
  auto r = Verify(receipt, other->public_key());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(key->key_id()));

  // Without the key id, the signature itself fails.
  receipt.clear_signing_key_id();
  auto r2 = Verify(receipt, other->public_key());
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Verify(receipt, key->public_key()).ok());

  // A receipt claiming the other key's id but signed by the first key.
  receipt.set_signing_key_id(other->key_id());
  EXPECT_EQ(Verify(receipt, other->public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Receipt, MalformedInputIsInvalidArgument) {
  auto key = NewKey();
  fedhub::v1::ConsentReceipt receipt = Sign(*key, SampleBody(*key));
  EXPECT_EQ(Verify(receipt, "short").status().code(), absl::StatusCode::kInvalidArgument);

  fedhub::v1::ConsentReceipt truncated = receipt;
  truncated.set_signature(receipt.signature().substr(0, 63));
  EXPECT_EQ(Verify(truncated, key->public_key()).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Correctly signed bytes that are not a ReceiptBody.
  fedhub::v1::ConsentReceipt garbage;
  garbage.set_body("\xff\xff\xff");
  garbage.set_signature(key->Sign(SignedMessage(garbage.body())));
  auto r = Verify(garbage, key->public_key());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedhub::receipt
