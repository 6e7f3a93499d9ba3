// The one place where gRPC statuses become absl statuses, for every call the SDK makes.
#ifndef FEDHUB_SDK_CLIENT_GRPC_STATUS_H_
#define FEDHUB_SDK_CLIENT_GRPC_STATUS_H_

#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace fedhub::client {

// Payload key under which a non-empty grpc::Status::error_details() (a serialised
// google.rpc.Status with rich error details) is attached to the absl::Status.
inline constexpr std::string_view kRpcStatusPayloadUrl = "type.googleapis.com/google.rpc.Status";

// Same code (both follow the canonical gRPC code numbering) and the hub's message
// verbatim, so a platform can show or log exactly what the hub said. OK maps to OK.
// A code outside 0..16 (a misbehaving peer) becomes UNKNOWN with its number in the message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_GRPC_STATUS_H_
