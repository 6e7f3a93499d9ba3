#include <google/protobuf/util/time_util.h>

#include "fedhub/v1/linking.grpc.pb.h"
#include "server/call.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_PLATFORM;

class LinkingServiceImpl final : public fedhub::v1::LinkingService::Service {
 public:
  explicit LinkingServiceImpl(Hub& hub) : hub_(hub) {}

  grpc::Status CreateLinkTicket(grpc::ServerContext* ctx, const fedhub::v1::CreateLinkTicketRequest* req,
                                fedhub::v1::CreateLinkTicketResponse* resp) override {
    Call call(hub_, *ctx, "CreateLinkTicket");
    auto caller = call.Authorize({ROLE_PLATFORM}, "link.ticket");
    if (!caller.ok()) return call.Finish(caller.status());
    auto t = hub_.linker().CreateTicket(*caller, req->user().local_user_id());
    if (!t.ok()) return call.Finish(t.status());
    resp->set_ticket(t->ticket);
    *resp->mutable_expires_at() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(t->expires_at_micros);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status RedeemLinkTicket(grpc::ServerContext* ctx, const fedhub::v1::RedeemLinkTicketRequest* req,
                                fedhub::v1::RedeemLinkTicketResponse* resp) override {
    Call call(hub_, *ctx, "RedeemLinkTicket");
    auto caller = call.Authorize({ROLE_PLATFORM}, "link.redeem");
    if (!caller.ok()) return call.Finish(caller.status());
    auto issuer = hub_.linker().Redeem(*caller, req->ticket(), req->user().local_user_id());
    if (!issuer.ok()) return call.Finish(issuer.status());
    resp->set_linked_platform_id(*issuer);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status UnlinkAccount(grpc::ServerContext* ctx, const fedhub::v1::UnlinkAccountRequest* req,
                             fedhub::v1::UnlinkAccountResponse*) override {
    Call call(hub_, *ctx, "UnlinkAccount");
    auto caller = call.Authorize({ROLE_PLATFORM}, "link.unlink");
    if (!caller.ok()) return call.Finish(caller.status());
    return call.Finish(hub_.linker().Unlink(*caller, req->user().local_user_id()));
  }

 private:
  Hub& hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewLinkingService(Hub& hub) {
  return std::make_unique<LinkingServiceImpl>(hub);
}

}  // namespace fedhub::server
