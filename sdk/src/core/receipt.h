// Consent receipts: signing (hub side) and offline verification (anyone).
//
// Signed message = "fedhub.receipt.v1" || 0x00 || body, where body is the serialised
// fedhub.v1.ReceiptBody carried verbatim in ConsentReceipt.body.
#ifndef FEDHUB_SDK_CORE_RECEIPT_H_
#define FEDHUB_SDK_CORE_RECEIPT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/crypto.h"
#include "fedhub/v1/consent.pb.h"

namespace fedhub::receipt {

inline constexpr std::string_view kReceiptDomain = "fedhub.receipt.v1";

std::string SignedMessage(std::string_view body);

fedhub::v1::ConsentReceipt Sign(const crypto::SigningKey& key,
                                const fedhub::v1::ReceiptBody& body);

// Verifies the signature with the 32-byte raw public key and returns the parsed body.
// UNAUTHENTICATED if the signature does not verify; INVALID_ARGUMENT if malformed.
absl::StatusOr<fedhub::v1::ReceiptBody> Verify(const fedhub::v1::ConsentReceipt& receipt,
                                               std::string_view public_key);

}  // namespace fedhub::receipt

#endif  // FEDHUB_SDK_CORE_RECEIPT_H_
