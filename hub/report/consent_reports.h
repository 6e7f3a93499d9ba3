// Consent reports for auditors, read from the audit log up to a signed tree head.
//
// A report is a view of audit entries: each line names the entry it comes from (sequence and
// entry hash), so an auditor can prove any line against the report's signed head with an
// inclusion proof. Person reports follow one audit pseudonym through every entry: consents
// granted, revoked and expired, every delivery of the person's data, refusals, erasure
// notices and acknowledgements. Platform reports cover one platform over a time range.
//
// Reports scan the audit log from the requested sequence (cost linear in the log's length);
// pages end between entries, never inside one.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_REPORT_CONSENT_REPORTS_H_
#define FEDHUB_HUB_REPORT_CONSENT_REPORTS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "audit/hash_chain.h"
#include "fedhub/v1/report.pb.h"
#include "identity/pseudonyms.h"
#include "linking/linker.h"
#include "storage/store.h"

namespace fedhub::report {

// Which entries a page covers: sequences [start, end], at most `limit` lines (a page may
// end a little past it, to finish an entry).
struct PageScope {
  uint64_t start = 1;
  uint64_t end = 0;
  int limit = 1000;
};

// Receives lines as they are found; returns false to stop (the reader went away).
using LineSink = std::function<bool(fedhub::v1::ReportLine)>;

// Access totals of a platform report, by direction, category and purpose.
using Totals = std::map<std::tuple<std::string, int, int>, fedhub::v1::ReportTotal>;

class ConsentReports {
 public:
  ConsentReports(storage::Store* store, const audit::HashChain* audit, linking::Linker* linker,
                 const Pseudonymizer* pseudonyms)
      : store_(store), audit_(audit), linker_(linker), pseudonyms_(pseudonyms) {}

  // The audit pseudonym of the person `platform` knows as `local_id`; NOT_FOUND if the
  // hub has never heard of them.
  absl::StatusOr<std::string> AuditSubjectOf(const std::string& platform, const std::string& local_id) const;

  // The lines about `subject` (an audit pseudonym). Returns the sequence the next page
  // starts at, or 0 if the report reached scope.end.
  absl::StatusOr<uint64_t> Person(const std::string& subject, const PageScope& scope, const LineSink& sink) const;

  // The lines about `platform` between from_micros and to_micros (0: unbounded), adding
  // access lines to `totals`.
  absl::StatusOr<uint64_t> Platform(const std::string& platform, int64_t from_micros, int64_t to_micros,
                                    const PageScope& scope, const LineSink& sink, Totals* totals) const;

 private:
  using EntryFn = std::function<absl::Status(const fedhub::v1::ChainEntry&, int* lines)>;
  absl::StatusOr<uint64_t> Scan(const PageScope& scope, const EntryFn& fn) const;

  storage::Store* store_;
  const audit::HashChain* audit_;
  linking::Linker* linker_;
  const Pseudonymizer* pseudonyms_;
};

}  // namespace fedhub::report

#endif  // FEDHUB_HUB_REPORT_CONSENT_REPORTS_H_
