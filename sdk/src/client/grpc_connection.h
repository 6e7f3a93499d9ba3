// Pieces of the gRPC connection that tests look at directly.
#ifndef FEDHUB_SDK_CLIENT_GRPC_CONNECTION_H_
#define FEDHUB_SDK_CLIENT_GRPC_CONNECTION_H_

#include <string>

#include <grpcpp/support/channel_arguments.h>

#include "absl/status/statusor.h"
#include "fedhub/options.h"

namespace fedhub::client {

// Keepalive: a ping after 60 s without traffic while a call is open (a watch stream that
// waits for changes), never on an idle channel, and the connection is dropped after 20 s
// without an answer. The hub must accept pings that often
// (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS <= 60 s) or it answers with
// GOAWAY "too_many_pings"; a watch then reconnects from its cursor, so no change is lost.
inline constexpr int kKeepaliveTimeMs = 60'000;
inline constexpr int kKeepaliveTimeoutMs = 20'000;

grpc::ChannelArguments MakeChannelArguments(const ClientOptions& options);

// The whole content of a PEM file named by ClientOptions field `field`. INVALID_ARGUMENT,
// naming the field and the path, when the path is empty, missing, unreadable or not PEM.
absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* field);

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_GRPC_CONNECTION_H_
