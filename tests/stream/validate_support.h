// Helpers of the stream validation tests: the refusal matcher and a valid event of each kind.
#ifndef FEDHUB_TESTS_STREAM_VALIDATE_SUPPORT_H_
#define FEDHUB_TESTS_STREAM_VALIDATE_SUPPORT_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "stream/validate.h"

namespace fedhub::stream::validate_test {

namespace v1 = ::fedhub::v1;


// The status is INVALID_ARGUMENT and its message starts with `path` followed by ':', ' ' or
// the end: the field is named exactly, not a parent or a sibling with the same prefix.
inline ::testing::AssertionResult RefusesField(const absl::Status& status, std::string_view path) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected INVALID_ARGUMENT, got " << status;
  }
  std::string_view message(status.message().data(), status.message().size());
  if (message.substr(0, path.size()) != path ||
      (message.size() > path.size() && message[path.size()] != ':' &&
       message[path.size()] != ' ')) {
    return ::testing::AssertionFailure()
           << "message does not start with " << path << ": " << message;
  }
  return ::testing::AssertionSuccess() << message;
}

// A value of `n` bytes.
inline std::string Bad(int n) { return std::string(n, 'x'); }

inline std::string Message(const absl::Status& status) { return std::string(status.message()); }

v1::ProfileFields& Fields(v1::PublishEvent& e) { return *e.mutable_profile()->mutable_fields(); }
v1::CatalogueItem& Item(v1::PublishEvent& e) { return *e.mutable_catalogue()->mutable_item(); }
inline void AddUnknown(google::protobuf::Message& m) {
  m.GetReflection()->MutableUnknownFields(&m)->AddVarint(42, 1);
}

v1::PublishEvent ValidProfileEvent() {
  v1::PublishEvent e;
  e.set_event_id("evt-0001");
  v1::ProfileChange& p = *e.mutable_profile();
  p.mutable_user()->set_local_user_id("u-17");
  for (auto c : {v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_CONTACT, v1::DATA_CATEGORY_LEARNING,
                 v1::DATA_CATEGORY_PURCHASES, v1::DATA_CATEGORY_INTERESTS}) {
    p.add_categories(c);
  }
  p.set_version(1700000000000000);
  v1::ProfileFields& f = *p.mutable_fields();
  f.set_display_name("Ada Lovelace");
  f.set_locale("en-GB");
  f.set_country("GB");
  f.set_age_band("25-34");
  f.set_email("ada@example.org");
  f.set_phone("+442071838750");
  v1::Enrolment& en = *f.add_enrolments();
  en.set_item_id("course-1");
  en.set_progress_permille(1000);
  en.set_completed(true);
  en.set_seconds_spent(3600);
  v1::Purchase& pu = *f.add_purchases();
  pu.set_item_id("tpl-9");
  pu.set_price_minor(1999);
  pu.set_currency("EUR");
  pu.set_purchased_at_micros(1700000000000000);
  f.add_interest_tags("rust");
  f.add_interest_tags("Machine learning, gently");
  f.add_wish_list("course-2");
  return e;
}

v1::PublishEvent ValidCatalogueEvent() {
  v1::PublishEvent e;
  e.set_event_id("evt-0002");
  v1::CatalogueItem& i = Item(e);
  i.set_item_id("course-1");
  i.set_kind(v1::ITEM_KIND_COURSE);
  i.set_title("Rust für C++-Programmierer");
  i.set_description("Ownership, borrowing and lifetimes, from a C++ point of view.");
  i.add_authors("Ada Lovelace");
  i.add_tags("rust");
  i.add_tags("c++");
  i.set_price_minor(4900);
  i.set_currency("EUR");
  i.set_language("de-AT");
  i.set_level(v1::ITEM_LEVEL_INTERMEDIATE);
  i.set_licence("single-seat");
  i.set_version("2.1.0");
  return e;
}

}  // namespace fedhub::stream::validate_test

#endif  // FEDHUB_TESTS_STREAM_VALIDATE_SUPPORT_H_
