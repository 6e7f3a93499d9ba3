#include "server/call.h"

#include <grpcpp/security/auth_context.h>

#include "core/strings.h"

namespace fedhub::server {
namespace {

constexpr std::string_view kSpiffePrefix = "spiffe://fedhub/";

fedhub::v1::Role RoleFromName(std::string_view name) {
  if (name == "platform") return fedhub::v1::ROLE_PLATFORM;
  if (name == "recommender") return fedhub::v1::ROLE_RECOMMENDER;
  if (name == "auditor") return fedhub::v1::ROLE_AUDITOR;
  if (name == "admin") return fedhub::v1::ROLE_ADMIN;
  return fedhub::v1::ROLE_UNSPECIFIED;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::StatusOr<Caller> PeerIdentity(const grpc::ServerContextBase& ctx) {
  auto auth = ctx.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate; connect with mutual TLS");
  }
  auto spiffe = auth->FindPropertyValues("peer_spiffe_id");
  if (!spiffe.empty()) {
    std::string_view uri(spiffe.front().data(), spiffe.front().size());
    if (uri.substr(0, kSpiffePrefix.size()) != kSpiffePrefix) {
      return absl::UnauthenticatedError(Cat("certificate URI ", uri, " is not spiffe://fedhub/<role>/<id>"));
    }
    std::string_view rest = uri.substr(kSpiffePrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      return absl::UnauthenticatedError(Cat("certificate URI ", uri, " lacks the /<id> part"));
    }
    fedhub::v1::Role role = RoleFromName(rest.substr(0, slash));
    if (role == fedhub::v1::ROLE_UNSPECIFIED) {
      return absl::UnauthenticatedError(Cat("certificate URI ", uri, " names an unknown role"));
    }
    return Caller{std::string(rest.substr(slash + 1)), role, ""};
  }
  auto cn = auth->FindPropertyValues("x509_common_name");
  if (!cn.empty()) return Caller{std::string(cn.front().data(), cn.front().size()), fedhub::v1::ROLE_UNSPECIFIED, ""};
  return absl::UnauthenticatedError("client certificate names no principal (no SPIFFE URI, no CN)");
}

Call::Call(Hub& hub, const grpc::ServerContextBase& ctx, std::string method)
    : hub_(hub), ctx_(ctx), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

absl::StatusOr<Caller> Call::Authorize(std::initializer_list<fedhub::v1::Role> roles,
                                       std::string_view action) {
  auto peer = PeerIdentity(ctx_);
  if (!peer.ok()) {
    (void)hub_.audit().RecordRefusal(Caller{}, action, peer.status());
    return peer.status();
  }
  absl::StatusOr<Caller> caller = absl::UnauthenticatedError("");
  if (peer->role == fedhub::v1::ROLE_UNSPECIFIED) {
    auto p = hub_.registry().Get(peer->id);
    caller = p.ok() ? hub_.registry().Authenticate(p->role(), peer->id)
                    : absl::UnauthenticatedError(Cat("certificate CN ", peer->id, " is not a registered principal"));
  } else {
    caller = hub_.registry().Authenticate(peer->role, peer->id);
  }
  if (!caller.ok()) {
    (void)hub_.audit().RecordRefusal(*peer, action, caller.status());
    return caller.status();
  }
  for (fedhub::v1::Role r : roles) {
    if (caller->role == r) return caller;
  }
  std::string allowed;
  for (fedhub::v1::Role r : roles) {
    allowed += (allowed.empty() ? "" : " or ") + fedhub::v1::Role_Name(r);
  }
  absl::Status denied = absl::PermissionDeniedError(
      Cat(method_, " is for ", allowed, "; ", caller->id, " is ", fedhub::v1::Role_Name(caller->role)));
  (void)hub_.audit().RecordRefusal(*caller, action, denied);
  return denied;
}

grpc::Status Call::Finish(const absl::Status& s) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  hub_.metrics().ObserveRpc(method_, static_cast<int>(s.code()), secs);
  return ToGrpc(s);
}

}  // namespace fedhub::server
