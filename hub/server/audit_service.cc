#include "fedhub/v1/audit.grpc.pb.h"
#include "server/call.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_AUDITOR;

absl::StatusOr<audit::HashChain*> ChainOf(Hub& hub, fedhub::v1::Chain chain) {
  switch (chain) {
    case fedhub::v1::CHAIN_AUDIT: return &hub.audit().chain();
    case fedhub::v1::CHAIN_LEDGER: return &hub.consents().ledger();
    default: return absl::InvalidArgumentError("chain is required: CHAIN_AUDIT or CHAIN_LEDGER");
  }
}

void FillHead(fedhub::v1::Chain chain, const audit::ChainPosition& pos, fedhub::v1::ChainHead* out) {
  out->set_chain(chain);
  out->set_size(pos.sequence);
  out->set_head_hash(crypto::ToString(pos.hash));
}

class AuditServiceImpl final : public fedhub::v1::AuditService::Service {
 public:
  explicit AuditServiceImpl(Hub& hub) : hub_(hub) {}

  grpc::Status ListChainEntries(grpc::ServerContext* ctx, const fedhub::v1::ListChainEntriesRequest* req,
                                fedhub::v1::ListChainEntriesResponse* resp) override {
    Call call(hub_, *ctx, "ListChainEntries");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.read");
    if (!caller.ok()) return call.Finish(caller.status());
    auto chain = ChainOf(hub_, req->chain());
    if (!chain.ok()) return call.Finish(chain.status());
    int size = req->page_size();
    if (size < 0 || size > 1000) {
      return call.Finish(absl::InvalidArgumentError("page_size must be 1 to 1000, or 0 for 100"));
    }
    if (size == 0) size = 100;
    uint64_t start = req->start_sequence() == 0 ? 1 : req->start_sequence();
    auto head = (*chain)->Head();
    if (!head.ok()) return call.Finish(head.status());
    auto entries = (*chain)->Read(start, size);
    if (!entries.ok()) return call.Finish(entries.status());
    uint64_t last = 0;
    for (auto& e : *entries) {
      if (e.sequence() > head->sequence) break;  // keep the page consistent with the head
      last = e.sequence();
      *resp->add_entries() = std::move(e);
    }
    resp->set_next_sequence(last != 0 && last < head->sequence ? last + 1 : 0);
    FillHead(req->chain(), *head, resp->mutable_head());
    return call.Finish(absl::OkStatus());
  }

  grpc::Status GetChainHead(grpc::ServerContext* ctx, const fedhub::v1::GetChainHeadRequest* req,
                            fedhub::v1::GetChainHeadResponse* resp) override {
    Call call(hub_, *ctx, "GetChainHead");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.head");
    if (!caller.ok()) return call.Finish(caller.status());
    auto chain = ChainOf(hub_, req->chain());
    if (!chain.ok()) return call.Finish(chain.status());
    auto head = (*chain)->Head();
    if (!head.ok()) return call.Finish(head.status());
    FillHead(req->chain(), *head, resp->mutable_head());
    return call.Finish(absl::OkStatus());
  }

  grpc::Status VerifyChain(grpc::ServerContext* ctx, const fedhub::v1::VerifyChainRequest* req,
                           fedhub::v1::VerifyChainResponse* resp) override {
    Call call(hub_, *ctx, "VerifyChain");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.verify");
    if (!caller.ok()) return call.Finish(caller.status());
    auto chain = ChainOf(hub_, req->chain());
    if (!chain.ok()) return call.Finish(chain.status());
    auto result = (*chain)->Verify();
    if (!result.ok()) return call.Finish(result.status());
    resp->set_ok(result->ok);
    resp->set_entries_checked(result->entries_checked);
    resp->set_first_bad_sequence(result->first_bad_sequence);
    resp->set_problem(result->problem);
    FillHead(req->chain(), result->head, resp->mutable_head());
    return call.Finish(absl::OkStatus());
  }

 private:
  Hub& hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewAuditService(Hub& hub) {
  return std::make_unique<AuditServiceImpl>(hub);
}

}  // namespace fedhub::server
