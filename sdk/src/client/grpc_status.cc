#include "client/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "core/strings.h"

namespace fedhub::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  absl::Status out;
  if (code < 1 || code > 16) {
    out = absl::UnknownError(
        Cat("gRPC status code ", code, " is not a canonical code: ", status.error_message()));
  } else {
    out = absl::Status(static_cast<absl::StatusCode>(code), status.error_message());
  }
  if (!status.error_details().empty()) {
    out.SetPayload(ToAbsl(kRpcStatusPayloadUrl), absl::Cord(status.error_details()));
  }
  return out;
}

}  // namespace fedhub::client
