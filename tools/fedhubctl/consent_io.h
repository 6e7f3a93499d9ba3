// Consents and receipts in and out of fedhubctl: their text forms, and receipt files (a
// ConsentReceipt in protobuf's JSON mapping, as `consent grant --receipt-out` writes and
// `receipt verify` reads; the binary encoding is read too).
#ifndef FEDHUB_TOOLS_FEDHUBCTL_CONSENT_IO_H_
#define FEDHUB_TOOLS_FEDHUBCTL_CONSENT_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/v1/consent.pb.h"

namespace fedhubctl {

absl::Status WriteReceipt(const std::string& path, const fedhub::v1::ConsentReceipt& receipt);
// NOT_FOUND etc. if unreadable; INVALID_ARGUMENT if it holds no receipt.
absl::StatusOr<fedhub::v1::ConsentReceipt> ReadReceipt(const std::string& path);

// A consent on one line: id, state, flow, categories, purposes, expiry, person.
std::string ConsentLine(const fedhub::v1::Consent& c);
// A consent, one field a line.
std::string ConsentDetails(const fedhub::v1::Consent& c);

}  // namespace fedhubctl

#endif  // FEDHUB_TOOLS_FEDHUBCTL_CONSENT_IO_H_
