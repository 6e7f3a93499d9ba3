#include "core/categories.h"

#include "fedhub/v1/options.pb.h"

namespace fedhub::categories {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

fedhub::v1::DataCategory Of(const FieldDescriptor* field) {
  if (field == nullptr || !field->options().HasExtension(fedhub::v1::category)) {
    return fedhub::v1::DATA_CATEGORY_UNSPECIFIED;
  }
  return field->options().GetExtension(fedhub::v1::category);
}

std::vector<std::pair<const FieldDescriptor*, fedhub::v1::DataCategory>> Declared(
    const Descriptor* descriptor) {
  std::vector<std::pair<const FieldDescriptor*, fedhub::v1::DataCategory>> out;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (fedhub::v1::DataCategory c = Of(f); c != fedhub::v1::DATA_CATEGORY_UNSPECIFIED) {
      out.emplace_back(f, c);
    }
  }
  return out;
}

std::set<fedhub::v1::DataCategory> Present(const Message& message) {
  std::set<fedhub::v1::DataCategory> out;
  std::vector<const FieldDescriptor*> set;
  message.GetReflection()->ListFields(message, &set);
  for (const FieldDescriptor* f : set) {
    if (fedhub::v1::DataCategory c = Of(f); c != fedhub::v1::DATA_CATEGORY_UNSPECIFIED) out.insert(c);
  }
  return out;
}

std::set<fedhub::v1::DataCategory> Narrow(Message* message,
                                          const std::set<fedhub::v1::DataCategory>& allowed) {
  std::set<fedhub::v1::DataCategory> removed;
  const auto* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> set;
  reflection->ListFields(*message, &set);
  for (const FieldDescriptor* f : set) {
    fedhub::v1::DataCategory c = Of(f);
    if (c == fedhub::v1::DATA_CATEGORY_UNSPECIFIED || allowed.count(c) != 0) continue;
    reflection->ClearField(message, f);
    removed.insert(c);
  }
  return removed;
}

}  // namespace fedhub::categories
