#include "fedhub/v1/audit.grpc.pb.h"
#include "server/call.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_ADMIN;
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

  grpc::Status GetSignedTreeHead(grpc::ServerContext* ctx, const fedhub::v1::GetSignedTreeHeadRequest* req,
                                 fedhub::v1::GetSignedTreeHeadResponse* resp) override {
    Call call(hub_, *ctx, "GetSignedTreeHead");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.tree_head");
    if (!caller.ok()) return call.Finish(caller.status());
    auto head = req->tree_size() == 0 ? hub_.tree_heads().Latest() : hub_.tree_heads().OfSize(req->tree_size());
    if (!head.ok()) return call.Finish(head.status());
    *resp->mutable_head() = std::move(*head);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status SignTreeHead(grpc::ServerContext* ctx, const fedhub::v1::SignTreeHeadRequest*,
                            fedhub::v1::SignTreeHeadResponse* resp) override {
    Call call(hub_, *ctx, "SignTreeHead");
    auto caller = call.Authorize({ROLE_AUDITOR, ROLE_ADMIN}, "audit.sign_tree_head");
    if (!caller.ok()) return call.Finish(caller.status());
    auto head = hub_.tree_heads().Sign();
    if (!head.ok()) return call.Finish(head.status());
    *resp->mutable_head() = std::move(*head);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status ListSignedTreeHeads(grpc::ServerContext* ctx, const fedhub::v1::ListSignedTreeHeadsRequest* req,
                                   fedhub::v1::ListSignedTreeHeadsResponse* resp) override {
    Call call(hub_, *ctx, "ListSignedTreeHeads");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.tree_head");
    if (!caller.ok()) return call.Finish(caller.status());
    int size = req->page_size();
    if (size < 0 || size > 1000) {
      return call.Finish(absl::InvalidArgumentError("page_size must be 1 to 1000, or 0 for 100"));
    }
    if (size == 0) size = 100;
    const uint64_t start = req->start_number() == 0 ? 1 : req->start_number();
    // One more than asked, to know whether there is a next page.
    auto heads = hub_.tree_heads().List(start, size + 1);
    if (!heads.ok()) return call.Finish(heads.status());
    if (static_cast<int>(heads->size()) > size) {
      resp->set_next_number(heads->back().number());
      heads->pop_back();
    }
    for (auto& h : *heads) *resp->add_heads() = std::move(h);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status GetInclusionProof(grpc::ServerContext* ctx, const fedhub::v1::GetInclusionProofRequest* req,
                                 fedhub::v1::GetInclusionProofResponse* resp) override {
    Call call(hub_, *ctx, "GetInclusionProof");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.prove");
    if (!caller.ok()) return call.Finish(caller.status());
    if (req->sequence() == 0) {
      return call.Finish(absl::InvalidArgumentError("sequence is required: the audit entry to prove, from 1"));
    }
    auto proof = hub_.tree_heads().ProveInclusion(req->sequence(), req->tree_size());
    if (!proof.ok()) return call.Finish(proof.status());
    *resp->mutable_proof() = std::move(*proof);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status GetConsistencyProof(grpc::ServerContext* ctx, const fedhub::v1::GetConsistencyProofRequest* req,
                                   fedhub::v1::GetConsistencyProofResponse* resp) override {
    Call call(hub_, *ctx, "GetConsistencyProof");
    auto caller = call.Authorize({ROLE_AUDITOR}, "audit.prove");
    if (!caller.ok()) return call.Finish(caller.status());
    if (req->first_tree_size() == 0) {
      return call.Finish(absl::InvalidArgumentError(
          "first_tree_size is required: the size of the older signed head (ListSignedTreeHeads)"));
    }
    auto proof = hub_.tree_heads().ProveConsistency(req->first_tree_size(), req->second_tree_size());
    if (!proof.ok()) return call.Finish(proof.status());
    *resp->mutable_proof() = std::move(*proof);
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
