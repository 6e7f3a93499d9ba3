// The gRPC services: thin translations between requests, the domain and statuses.
#ifndef FEDHUB_HUB_SERVER_SERVICES_H_
#define FEDHUB_HUB_SERVER_SERVICES_H_

#include <memory>

#include <grpcpp/impl/codegen/service_type.h>

#include "app/hub.h"

namespace fedhub::server {

std::unique_ptr<grpc::Service> NewHubService(Hub& hub);
std::unique_ptr<grpc::Service> NewRegistryService(Hub& hub);
std::unique_ptr<grpc::Service> NewLinkingService(Hub& hub);
std::unique_ptr<grpc::Service> NewConsentService(Hub& hub);
std::unique_ptr<grpc::Service> NewAuditService(Hub& hub);

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_SERVICES_H_
