// The auditor's part of the scenario, on the SDK alone: a freshly signed head of the audit
// log's Merkle tree, the consent report on one person read at that head, and one of its
// lines proved to be in the head — every signature and proof checked offline with the hub's
// public key.
#ifndef FEDHUB_EXAMPLES_SCENARIO_AUDITOR_REPORT_H_
#define FEDHUB_EXAMPLES_SCENARIO_AUDITOR_REPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fedhub/client.h"

namespace fedhub_examples {

struct AuditedReport {
  fedhub::v1::SignedTreeHead head;
  std::vector<fedhub::v1::ReportLine> lines;
  // The line proved: the first access (delivery of the person's data), else the first line.
  fedhub::v1::ReportLine proved;
  int audit_path_hashes = 0;
};

// Signs a head, reads every page of the report on the person `platform` knows as
// `local_id` at that head, and proves one line. Any failed check is returned.
absl::StatusOr<AuditedReport> ReportAndProve(fedhub::Client& auditor, std::string_view hub_key,
                                             const std::string& platform, const std::string& local_id);

// One report line for people: "#12 2026-… access: store received PROFILE,LEARNING from
// courses under c-1a2b… (2 events)".
std::string DescribeReportLine(const fedhub::v1::ReportLine& line);

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_SCENARIO_AUDITOR_REPORT_H_
