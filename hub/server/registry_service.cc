#include "fedhub/v1/hub.grpc.pb.h"
#include "fedhub/v1/registry.grpc.pb.h"
#include "identity/ids.h"
#include "server/call.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_ADMIN;

class HubServiceImpl final : public fedhub::v1::HubService::Service {
 public:
  explicit HubServiceImpl(Hub& hub) : hub_(hub) {}
  grpc::Status GetHubInfo(grpc::ServerContext* ctx, const fedhub::v1::GetHubInfoRequest*,
                          fedhub::v1::GetHubInfoResponse* resp) override {
    Call call(hub_, *ctx, "GetHubInfo");
    auto caller = call.Authorize({fedhub::v1::ROLE_PLATFORM, fedhub::v1::ROLE_RECOMMENDER,
                                  fedhub::v1::ROLE_AUDITOR, ROLE_ADMIN},
                                 "hub.info");
    if (!caller.ok()) return call.Finish(caller.status());
    resp->set_version(FEDHUB_VERSION);
    resp->set_signing_public_key(hub_.signing_key().public_key());
    resp->set_signing_public_key_pem(hub_.signing_key().PublicKeyPem());
    resp->set_signing_key_id(hub_.signing_key().key_id());
    resp->set_caller_id(caller->id);
    resp->set_caller_role(caller->role);
    return call.Finish(absl::OkStatus());
  }

 private:
  Hub& hub_;
};

class RegistryServiceImpl final : public fedhub::v1::RegistryService::Service {
 public:
  explicit RegistryServiceImpl(Hub& hub) : hub_(hub) {}

  grpc::Status RegisterPrincipal(grpc::ServerContext* ctx, const fedhub::v1::RegisterPrincipalRequest* req,
                                 fedhub::v1::RegisterPrincipalResponse* resp) override {
    Call call(hub_, *ctx, "RegisterPrincipal");
    auto caller = call.Authorize({ROLE_ADMIN}, "registry.register");
    if (!caller.ok()) return call.Finish(caller.status());
    auto p = hub_.registry().Register(*caller, req->principal());
    if (!p.ok()) return call.Finish(p.status());
    *resp->mutable_principal() = *p;
    return call.Finish(absl::OkStatus());
  }

  grpc::Status SuspendPrincipal(grpc::ServerContext* ctx, const fedhub::v1::SuspendPrincipalRequest* req,
                                fedhub::v1::SuspendPrincipalResponse* resp) override {
    Call call(hub_, *ctx, "SuspendPrincipal");
    auto caller = call.Authorize({ROLE_ADMIN}, "registry.suspend");
    if (!caller.ok()) return call.Finish(caller.status());
    auto p = hub_.registry().SetStatus(*caller, req->id(), fedhub::v1::PRINCIPAL_STATUS_SUSPENDED, req->reason());
    if (!p.ok()) return call.Finish(p.status());
    *resp->mutable_principal() = *p;
    return call.Finish(absl::OkStatus());
  }

  grpc::Status ReinstatePrincipal(grpc::ServerContext* ctx, const fedhub::v1::ReinstatePrincipalRequest* req,
                                  fedhub::v1::ReinstatePrincipalResponse* resp) override {
    Call call(hub_, *ctx, "ReinstatePrincipal");
    auto caller = call.Authorize({ROLE_ADMIN}, "registry.reinstate");
    if (!caller.ok()) return call.Finish(caller.status());
    auto p = hub_.registry().SetStatus(*caller, req->id(), fedhub::v1::PRINCIPAL_STATUS_ACTIVE, req->reason());
    if (!p.ok()) return call.Finish(p.status());
    *resp->mutable_principal() = *p;
    return call.Finish(absl::OkStatus());
  }

  grpc::Status GetPrincipal(grpc::ServerContext* ctx, const fedhub::v1::GetPrincipalRequest* req,
                            fedhub::v1::GetPrincipalResponse* resp) override {
    Call call(hub_, *ctx, "GetPrincipal");
    auto caller = call.Authorize({ROLE_ADMIN}, "registry.get");
    if (!caller.ok()) return call.Finish(caller.status());
    if (absl::Status v = ids::ValidatePrincipalId(req->id(), "id"); !v.ok()) return call.Finish(v);
    auto p = hub_.registry().Get(req->id());
    if (!p.ok()) return call.Finish(p.status());
    *resp->mutable_principal() = *p;
    return call.Finish(absl::OkStatus());
  }

  grpc::Status ListPrincipals(grpc::ServerContext* ctx, const fedhub::v1::ListPrincipalsRequest* req,
                              fedhub::v1::ListPrincipalsResponse* resp) override {
    Call call(hub_, *ctx, "ListPrincipals");
    auto caller = call.Authorize({ROLE_ADMIN}, "registry.list");
    if (!caller.ok()) return call.Finish(caller.status());
    // The token is the last id of the previous page; anything else was not issued here.
    const std::string& token = req->page().page_token();
    if (!token.empty() && !ids::ValidatePrincipalId(token, "page.page_token").ok()) {
      return call.Finish(absl::InvalidArgumentError(
          "page.page_token is not one this hub issued; start without one"));
    }
    auto page = hub_.registry().List(req->role(), req->page().page_size(), req->page().page_token());
    if (!page.ok()) return call.Finish(page.status());
    for (auto& p : page->principals) *resp->add_principals() = std::move(p);
    resp->set_next_page_token(page->next_page_token);
    return call.Finish(absl::OkStatus());
  }

 private:
  Hub& hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewHubService(Hub& hub) { return std::make_unique<HubServiceImpl>(hub); }
std::unique_ptr<grpc::Service> NewRegistryService(Hub& hub) {
  return std::make_unique<RegistryServiceImpl>(hub);
}

}  // namespace fedhub::server
