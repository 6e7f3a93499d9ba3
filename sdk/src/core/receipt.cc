#include "core/receipt.h"

#include "core/strings.h"

namespace fedhub::receipt {

std::string SignedMessage(std::string_view body) {
  std::string msg;
  msg.reserve(kReceiptDomain.size() + 1 + body.size());
  msg.append(kReceiptDomain);
  msg.push_back('\0');
  msg.append(body);
  return msg;
}

fedhub::v1::ConsentReceipt Sign(const crypto::SigningKey& key,
                                const fedhub::v1::ReceiptBody& body) {
  fedhub::v1::ConsentReceipt receipt;
  body.SerializeToString(receipt.mutable_body());
  receipt.set_signature(key.Sign(SignedMessage(receipt.body())));
  receipt.set_signing_key_id(key.key_id());
  return receipt;
}

absl::StatusOr<fedhub::v1::ReceiptBody> Verify(const fedhub::v1::ConsentReceipt& receipt,
                                               std::string_view public_key) {
  if (public_key.size() != 32) {
    return absl::InvalidArgumentError(
        Cat("the hub public key must be 32 raw bytes, got ", public_key.size()));
  }
  if (receipt.signature().size() != 64) {
    return absl::InvalidArgumentError(Cat(
        "receipt signature must be 64 bytes, got ", receipt.signature().size()));
  }
  std::string key_id = crypto::KeyIdFor(public_key);
  if (!receipt.signing_key_id().empty() && receipt.signing_key_id() != key_id) {
    return absl::UnauthenticatedError(Cat(
        "receipt was signed by key ", receipt.signing_key_id(), " but the key given is ",
        key_id, "; fetch the hub key that signed it"));
  }
  if (!crypto::Ed25519Verify(public_key, SignedMessage(receipt.body()), receipt.signature())) {
    return absl::UnauthenticatedError(
        "receipt signature does not verify: the receipt was altered or not issued by this hub");
  }
  fedhub::v1::ReceiptBody body;
  if (!body.ParseFromString(receipt.body())) {
    return absl::InvalidArgumentError("receipt body is signed but does not parse as ReceiptBody");
  }
  return body;
}

}  // namespace fedhub::receipt
