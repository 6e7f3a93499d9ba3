// Data categories of personal-data fields, read from their declarations in proto/: each such
// field carries [(fedhub.v1.category) = ...] once, and code asks the descriptor instead of
// keeping its own list. Used to narrow a message to the categories a consent covers.
#ifndef FEDHUB_CORE_CATEGORIES_H_
#define FEDHUB_CORE_CATEGORIES_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <set>
#include <utility>
#include <vector>

#include "fedhub/v1/common.pb.h"

namespace fedhub::categories {

// The category `field` declares; DATA_CATEGORY_UNSPECIFIED if it declares none.
fedhub::v1::DataCategory Of(const google::protobuf::FieldDescriptor* field);

// The fields of `descriptor` that declare a category, in field-number order.
std::vector<std::pair<const google::protobuf::FieldDescriptor*, fedhub::v1::DataCategory>>
Declared(const google::protobuf::Descriptor* descriptor);

// Categories of the fields set in `message` (top level).
std::set<fedhub::v1::DataCategory> Present(const google::protobuf::Message& message);

// Clears every field of `message` whose declared category is not in `allowed`, and returns
// the categories whose fields were cleared. Fields that declare no category are kept.
std::set<fedhub::v1::DataCategory> Narrow(google::protobuf::Message* message,
                                          const std::set<fedhub::v1::DataCategory>& allowed);

}  // namespace fedhub::categories

#endif  // FEDHUB_CORE_CATEGORIES_H_
