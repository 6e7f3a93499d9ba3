#include "consent_io.h"

#include <google/protobuf/util/json_util.h>

#include "command.h"
#include "names.h"
#include "output.h"

namespace fedhubctl {
namespace {

using fedhub::v1::Consent;
using fedhub::v1::DataCategory;
using fedhub::v1::Purpose;

std::string Person(const Consent& c) {
  if (!c.user().local_user_id().empty()) return "user " + c.user().local_user_id();
  if (!c.pairwise_pseudonym().empty()) return "pseudonym " + c.pairwise_pseudonym();
  return "-";
}

std::string Target(const Consent& c) {
  return c.target_platform_id().empty() ? "any member" : c.target_platform_id();
}

}  // namespace

absl::Status WriteReceipt(const std::string& path, const fedhub::v1::ConsentReceipt& receipt) {
  return WriteFile(path, MessageJson(receipt, /*pretty=*/true) + "\n");
}

absl::StatusOr<fedhub::v1::ConsentReceipt> ReadReceipt(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status();
  fedhub::v1::ConsentReceipt receipt;
  const size_t first = content->find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (*content)[first] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(*content, &receipt);
    if (!status.ok()) {
      return absl::InvalidArgumentError(path +
                                        " is not a receipt: " + std::string(status.message()));
    }
  } else if (!receipt.ParseFromString(*content)) {
    return absl::InvalidArgumentError(
        path + " is not a receipt (neither JSON nor a binary ConsentReceipt)");
  }
  if (receipt.body().empty() || receipt.signature().empty()) {
    return absl::InvalidArgumentError(path + " is not a receipt: body or signature is missing");
  }
  return receipt;
}

std::string ConsentLine(const Consent& c) {
  return c.consent_id() + "  " + Name(c.state()) + "  " + c.source_platform_id() + " -> " +
         Target(c) + "  " + Names<DataCategory>(c.categories()) + "  " +
         Names<Purpose>(c.purposes()) + "  expires " + FormatTime(c.expires_at()) + "  " +
         Person(c);
}

std::string ConsentDetails(const Consent& c) {
  std::string out = "consent     " + c.consent_id() + "\nstate       " + Name(c.state()) +
                    "\nperson      " + Person(c) + "\nfrom        " + c.source_platform_id() +
                    "\nto          " + Target(c) + "\ncategories  " +
                    Names<DataCategory>(c.categories()) + "\npurposes    " +
                    Names<Purpose>(c.purposes()) + "\ngranted     " + FormatTime(c.granted_at()) +
                    "\nexpires     " + FormatTime(c.expires_at()) + "\nevidence    " +
                    (c.evidence().method().empty() ? "-" : c.evidence().method());
  if (!c.evidence().reference().empty()) out += " (" + c.evidence().reference() + ")";
  if (c.has_revoked_at()) {
    out += "\nrevoked     " + FormatTime(c.revoked_at()) + " by " + c.revoked_by_platform_id();
  }
  return out;
}

}  // namespace fedhubctl
