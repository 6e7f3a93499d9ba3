// fedhub/verify.h over the shared core (the same code the hub signs and chains with), so
// the SDK cannot drift from the hub's format.
#include "fedhub/verify.h"

#include <algorithm>
#include <utility>

#include "core/chain_codec.h"
#include "core/crypto.h"
#include "core/receipt.h"
#include "core/strings.h"

namespace fedhub {

absl::StatusOr<v1::ReceiptBody> VerifyReceipt(const v1::ConsentReceipt& receipt,
                                              std::string_view hub_public_key_raw32) {
  return receipt::Verify(receipt, hub_public_key_raw32);
}

absl::StatusOr<std::string> HubPublicKeyFromPem(std::string_view pem) {
  return crypto::Ed25519PublicKeyFromPem(pem);
}

std::string HubKeyId(std::string_view hub_public_key_raw32) {
  return crypto::KeyIdFor(hub_public_key_raw32);
}

struct ChainVerifier::Impl {
  explicit Impl(v1::Chain chain) : verifier(chain) {}
  chain::ChainVerifier verifier;
};

ChainVerifier::ChainVerifier(v1::Chain chain) : impl_(std::make_unique<Impl>(chain)) {}
ChainVerifier::~ChainVerifier() = default;
ChainVerifier::ChainVerifier(ChainVerifier&&) noexcept = default;
ChainVerifier& ChainVerifier::operator=(ChainVerifier&&) noexcept = default;

absl::Status ChainVerifier::StartAt(uint64_t next_sequence, std::string_view prev_hash) {
  if (prev_hash.size() != 32) {
    return absl::InvalidArgumentError(
        Cat("a chain hash is 32 bytes, got ", prev_hash.size()));
  }
  if (next_sequence == 0) {
    return absl::InvalidArgumentError("chain sequences start at 1");
  }
  crypto::Digest digest;
  std::copy(prev_hash.begin(), prev_hash.end(), digest.begin());
  impl_->verifier.StartAt(next_sequence, digest);
  return absl::OkStatus();
}

absl::Status ChainVerifier::Add(const v1::ChainEntry& entry) { return impl_->verifier.Add(entry); }

absl::Status ChainVerifier::CheckHead(const v1::ChainHead& head) const {
  const uint64_t verified_size = impl_->verifier.next_sequence() - 1;
  if (head.size() != verified_size) {
    return absl::DataLossError(Cat("the hub reports ", head.size(),
                                   " entries but the verified chain ends at entry ",
                                   verified_size));
  }
  const std::string ours = crypto::ToString(impl_->verifier.head_hash());
  if (head.head_hash() != ours) {
    return absl::DataLossError(Cat(
        "the hub's head hash ", crypto::HexEncode(head.head_hash()).substr(0, 16),
        "… differs from the verified head ", crypto::HexEncode(ours).substr(0, 16), "… at entry ",
        verified_size));
  }
  return absl::OkStatus();
}

uint64_t ChainVerifier::entries_checked() const { return impl_->verifier.entries_checked(); }
uint64_t ChainVerifier::next_sequence() const { return impl_->verifier.next_sequence(); }
std::string ChainVerifier::head_hash() const {
  return crypto::ToString(impl_->verifier.head_hash());
}

}  // namespace fedhub
