// The gRPC implementations of the SDK's stream interfaces (fedhub/connection.h), used by
// the gRPC connection.
#ifndef FEDHUB_SDK_CLIENT_GRPC_STREAMS_H_
#define FEDHUB_SDK_CLIENT_GRPC_STREAMS_H_

#include <memory>

#include "fedhub/connection.h"
#include "fedhub/v1/consent.grpc.pb.h"
#include "fedhub/v1/stream.grpc.pb.h"

namespace fedhub::client {

// Each call opens its stream at once and never returns null: a stream that cannot start
// reports the transport's status from Read/Finish. No deadline (streams live until
// cancelled; the channel's keepalive detects a dead connection).
std::unique_ptr<ConsentWatchStream> OpenWatchConsents(v1::ConsentService::Stub& stub,
                                                      const v1::WatchConsentsRequest& request);
std::unique_ptr<PublishStream> OpenPublish(v1::StreamService::Stub& stub);
std::unique_ptr<SubscribeStream> OpenSubscribe(v1::StreamService::Stub& stub,
                                               const v1::SubscribeRequest& request);

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_GRPC_STREAMS_H_
