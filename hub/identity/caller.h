// Who is calling, as established from the peer certificate and the registry.
#ifndef FEDHUB_HUB_IDENTITY_CALLER_H_
#define FEDHUB_HUB_IDENTITY_CALLER_H_

#include <string>

#include "fedhub/v1/common.pb.h"

namespace fedhub {

struct Caller {
  // Principal id; empty when the peer could not be identified.
  std::string id;
  fedhub::v1::Role role = fedhub::v1::ROLE_UNSPECIFIED;
  // For recommenders: the platform they serve.
  std::string bound_platform_id;
};

}  // namespace fedhub

#endif  // FEDHUB_HUB_IDENTITY_CALLER_H_
