// Per-call plumbing shared by every service: who the caller is (certificate + registry),
// whether its role may make this call, the audit entry for a refusal, the RPC metrics,
// and the one place where domain statuses become gRPC statuses.
#ifndef FEDHUB_HUB_SERVER_CALL_H_
#define FEDHUB_HUB_SERVER_CALL_H_

#include <chrono>
#include <initializer_list>
#include <string>

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "app/hub.h"
#include "identity/caller.h"

namespace fedhub::server {

grpc::Status ToGrpc(const absl::Status& s);

// Reads the principal named by the peer certificate: `spiffe://fedhub/<role>/<id>` in
// the single URI SAN, or, failing that, the common name as the id (role then comes from
// the registry). UNAUTHENTICATED if neither is present.
absl::StatusOr<Caller> PeerIdentity(const grpc::ServerContextBase& ctx);

class Call {
 public:
  Call(Hub& hub, const grpc::ServerContextBase& ctx, std::string method);

  // The caller, if it is registered, active, and has one of `roles`. Otherwise the
  // refusal (UNAUTHENTICATED or PERMISSION_DENIED) is audited and returned.
  absl::StatusOr<Caller> Authorize(std::initializer_list<fedhub::v1::Role> roles,
                                   std::string_view action);
  // Records metrics and converts.
  grpc::Status Finish(const absl::Status& s);

 private:
  Hub& hub_;
  const grpc::ServerContextBase& ctx_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_CALL_H_
