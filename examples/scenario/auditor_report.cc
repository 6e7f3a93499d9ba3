#include "auditor_report.h"

#include "describe.h"
#include "fedhub/verify.h"

namespace fedhub_examples {
namespace {

std::string Categories(const fedhub::v1::ReportLine& l) {
  std::string out;
  for (int c : l.categories()) {
    std::string name = fedhub::v1::DataCategory_Name(static_cast<fedhub::v1::DataCategory>(c));
    if (name.rfind("DATA_CATEGORY_", 0) == 0) name = name.substr(14);
    out += (out.empty() ? "" : ",") + name;
  }
  return out;
}

}  // namespace

absl::StatusOr<AuditedReport> ReportAndProve(fedhub::Client& auditor, std::string_view hub_key,
                                             const std::string& platform, const std::string& local_id) {
  AuditedReport out;
  auto head = auditor.SignTreeHead();
  if (!head.ok()) return head.status();
  if (absl::Status s = fedhub::VerifySignedTreeHead(*head, hub_key); !s.ok()) return s;
  out.head = *head;

  fedhub::v1::ReportPersonRequest request;
  request.set_platform_id(platform);
  request.set_local_user_id(local_id);
  request.set_tree_size(head->tree_size());
  do {
    auto page = auditor.ReportPerson(request);
    if (!page.ok()) return page.status();
    request.set_start_sequence(0);
    for (auto& message : *page) {
      for (auto& line : *message.mutable_lines()) out.lines.push_back(std::move(line));
      request.set_start_sequence(message.next_sequence());
    }
  } while (request.start_sequence() != 0);
  if (out.lines.empty()) return absl::NotFoundError("the report on " + local_id + " is empty");

  out.proved = out.lines.front();
  for (const auto& line : out.lines) {
    if (line.kind() == "access") {
      out.proved = line;
      break;
    }
  }
  auto proof = auditor.GetInclusionProof(out.proved.audit_sequence(), head->tree_size());
  if (!proof.ok()) return proof.status();
  // The proof is about the very entry the line was read from.
  if (proof->entry().entry_hash() != out.proved.entry_hash()) {
    return absl::DataLossError("the proof's entry is not the report line's entry");
  }
  if (absl::Status s = fedhub::VerifyInclusionProof(*proof, hub_key); !s.ok()) return s;
  out.audit_path_hashes = proof->audit_path_size();
  return out;
}

std::string DescribeReportLine(const fedhub::v1::ReportLine& l) {
  std::string out = "#" + std::to_string(l.audit_sequence()) + " " + l.kind() + ": ";
  if (l.kind() == "access") {
    out += l.actor_id() + " received " + Categories(l) + " from " + l.counterparty_id() + " under " +
           Abbreviate(l.consent_id()) + " (" + std::to_string(l.events()) + (l.events() == 1 ? " event)" : " events)");
  } else {
    out += "by " + (l.actor_id().empty() ? std::string("the hub") : l.actor_id());
    if (!l.counterparty_id().empty()) out += ", with " + l.counterparty_id();
    if (!l.consent_id().empty()) out += ", consent " + Abbreviate(l.consent_id());
    if (l.categories_size() > 0) out += ", " + Categories(l);
  }
  return out;
}

}  // namespace fedhub_examples
