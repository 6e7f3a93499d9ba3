// ReportService: consent reports streamed from the audit log up to a signed tree head. On
// the synchronous API: a report is a sequential read, and the writer blocks while the
// client is slow, which bounds what the hub holds for it to one chunk.
#include "core/strings.h"
#include "fedhub/v1/report.grpc.pb.h"
#include "report/consent_reports.h"
#include "server/call.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_AUDITOR;
using fedhub::v1::ROLE_PLATFORM;

constexpr int kLinesPerMessage = 500;

// Auditors read every report; a platform only its own (its own people, its own activity).
absl::Status MayRead(const Caller& caller, const std::string& platform) {
  if (caller.role == ROLE_AUDITOR || caller.id == platform) return absl::OkStatus();
  return absl::PermissionDeniedError(Cat("platform '", caller.id, "' may read only its own reports, not those of '", platform,
                                         "'; consent reports on other platforms are for auditors"));
}

absl::StatusOr<report::PageScope> ScopeOf(Hub& hub, uint64_t tree_size, uint64_t start, int32_t page_size,
                                          fedhub::v1::SignedTreeHead* head) {
  if (page_size < 0 || page_size > 10000) {
    return absl::InvalidArgumentError("page_size must be 1 to 10000, or 0 for 1000");
  }
  auto h = tree_size == 0 ? hub.tree_heads().Latest() : hub.tree_heads().OfSize(tree_size);
  if (!h.ok()) return h.status();
  *head = *h;
  report::PageScope scope;
  scope.start = start == 0 ? 1 : start;
  scope.end = h->tree_size();
  scope.limit = page_size == 0 ? 1000 : page_size;
  return scope;
}

// Buffers lines into messages of kLinesPerMessage; Flush sends what is left.
template <typename Response>
class Chunker {
 public:
  explicit Chunker(grpc::ServerWriter<Response>* writer) : writer_(writer) {}
  bool Add(fedhub::v1::ReportLine line) {
    *pending_.add_lines() = std::move(line);
    if (pending_.lines_size() < kLinesPerMessage) return true;
    return Send();
  }
  Response& pending() { return pending_; }
  bool Send() {
    bool ok = writer_->Write(pending_);
    pending_.Clear();
    return ok;
  }

 private:
  grpc::ServerWriter<Response>* writer_;
  Response pending_;
};

class ReportServiceImpl final : public fedhub::v1::ReportService::Service {
 public:
  explicit ReportServiceImpl(Hub& hub) : hub_(hub) {}

  grpc::Status ReportPerson(grpc::ServerContext* ctx, const fedhub::v1::ReportPersonRequest* req,
                            grpc::ServerWriter<fedhub::v1::ReportPersonResponse>* writer) override {
    Call call(hub_, *ctx, "ReportPerson");
    auto caller = call.Authorize({ROLE_AUDITOR, ROLE_PLATFORM}, "report.person");
    if (!caller.ok()) return call.Finish(caller.status());
    if (req->platform_id().empty() || req->local_user_id().empty()) {
      return call.Finish(absl::InvalidArgumentError(
          "platform_id and local_user_id are required: the person as one platform knows them"));
    }
    if (absl::Status s = MayRead(*caller, req->platform_id()); !s.ok()) return Refuse(call, *caller, "report.person", s);
    fedhub::v1::SignedTreeHead head;
    auto scope = ScopeOf(hub_, req->tree_size(), req->start_sequence(), req->page_size(), &head);
    if (!scope.ok()) return call.Finish(scope.status());
    auto subject = hub_.reports().AuditSubjectOf(req->platform_id(), req->local_user_id());
    if (!subject.ok()) return call.Finish(subject.status());
    Chunker<fedhub::v1::ReportPersonResponse> out(writer);
    out.pending().set_subject(*subject);
    auto next = hub_.reports().Person(*subject, *scope, [&](fedhub::v1::ReportLine l) { return out.Add(std::move(l)); });
    if (!next.ok()) return call.Finish(next.status());
    out.pending().set_next_sequence(*next);
    *out.pending().mutable_head() = head;
    out.Send();
    return call.Finish(absl::OkStatus());
  }

  grpc::Status ReportPlatform(grpc::ServerContext* ctx, const fedhub::v1::ReportPlatformRequest* req,
                              grpc::ServerWriter<fedhub::v1::ReportPlatformResponse>* writer) override {
    Call call(hub_, *ctx, "ReportPlatform");
    auto caller = call.Authorize({ROLE_AUDITOR, ROLE_PLATFORM}, "report.platform");
    if (!caller.ok()) return call.Finish(caller.status());
    if (req->platform_id().empty()) return call.Finish(absl::InvalidArgumentError("platform_id is required"));
    if (req->to_micros() != 0 && req->to_micros() <= req->from_micros()) {
      return call.Finish(absl::InvalidArgumentError("to_micros must be after from_micros (or 0 for no end)"));
    }
    if (absl::Status s = MayRead(*caller, req->platform_id()); !s.ok()) {
      return Refuse(call, *caller, "report.platform", s);
    }
    if (!hub_.registry().Get(req->platform_id()).ok()) {
      return call.Finish(absl::NotFoundError(Cat("platform '", req->platform_id(), "' is not registered")));
    }
    fedhub::v1::SignedTreeHead head;
    auto scope = ScopeOf(hub_, req->tree_size(), req->start_sequence(), req->page_size(), &head);
    if (!scope.ok()) return call.Finish(scope.status());
    Chunker<fedhub::v1::ReportPlatformResponse> out(writer);
    report::Totals totals;
    auto next = hub_.reports().Platform(req->platform_id(), req->from_micros(), req->to_micros(), *scope,
                                        [&](fedhub::v1::ReportLine l) { return out.Add(std::move(l)); }, &totals);
    if (!next.ok()) return call.Finish(next.status());
    out.pending().set_next_sequence(*next);
    *out.pending().mutable_head() = head;
    for (auto& [key, total] : totals) *out.pending().add_totals() = std::move(total);
    out.Send();
    return call.Finish(absl::OkStatus());
  }

 private:
  // A permission refusal is audited, as every role refusal is; if the refusal cannot be
  // recorded, the caller gets that failure instead (as for consent checks).
  grpc::Status Refuse(Call& call, const Caller& caller, std::string_view action, const absl::Status& s) {
    if (absl::Status audited = hub_.audit().RecordRefusal(caller, action, s, caller.id); !audited.ok()) {
      return call.Finish(audited);
    }
    return call.Finish(s);
  }

  Hub& hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewReportService(Hub& hub) { return std::make_unique<ReportServiceImpl>(hub); }

}  // namespace fedhub::server
