// The wire-bytes fast pass of the generic rules against the reflective pass: it passes valid
// events, refuses each kind of violation, and over thousands of random mutations of valid
// events it agrees with the reflective pass exactly.
#include <gtest/gtest.h>

#include <google/protobuf/stubs/logging.h>

#include <random>
#include <string>

#include "stream/validate_internal.h"
#include "validate_support.h"

namespace fedhub::stream::validate_test {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using validate_internal::CertainlyPassesGenericChecks;
using validate_internal::CheckGenericallyByReflection;
using validate_internal::GenericLimits;

constexpr GenericLimits kLimits{/*max_repeated=*/6, /*max_unlisted_string_bytes=*/64};

// Both passes on `m`: the reflective one's status, and whether the fast pass vouched for it.
struct Verdicts {
  bool fast = false;
  absl::Status slow;
};
Verdicts Judge(const Message& m) { return {CertainlyPassesGenericChecks(m, kLimits), CheckGenericallyByReflection(m, "m", kLimits)}; }

TEST(GenericWirePass, ValidEventsPass) {
  v1::PublishEvent profile = ValidProfileEvent();
  v1::PublishEvent catalogue = ValidCatalogueEvent();
  EXPECT_TRUE(CertainlyPassesGenericChecks(profile.profile(), {100, 256}));
  EXPECT_TRUE(CertainlyPassesGenericChecks(catalogue.catalogue(), {100, 256}));
  EXPECT_TRUE(CertainlyPassesGenericChecks(v1::ProfileChange(), kLimits)) << "an empty message";
}

TEST(GenericWirePass, EachViolationIsRefusedAndTheReflectivePassNamesIt) {
  struct Case {
    const char* what;
    void (*mutate)(v1::ProfileChange&);
    const char* path;  // named by the reflective pass
  };
  const Case cases[] = {
      {"unknown field at the top", [](v1::ProfileChange& p) { AddUnknown(p); }, "m"},
      {"unknown field two levels down",
       [](v1::ProfileChange& p) { AddUnknown(*p.mutable_fields()->mutable_enrolments(0)); },
       "m.fields.enrolments[0]"},
      {"invalid UTF-8 in a string with its own limit",
       [](v1::ProfileChange& p) { p.mutable_fields()->set_display_name("Ad\xff"); }, "m.fields.display_name"},
      {"a surrogate encoded in UTF-8",
       [](v1::ProfileChange& p) { p.mutable_fields()->set_interest_tags(1, "\xed\xa0\x80"); },
       "m.fields.interest_tags[1]"},
      {"too many entries of a repeated string",
       [](v1::ProfileChange& p) {
         for (int i = 0; i < 5; ++i) p.mutable_fields()->add_interest_tags("t");
       },
       "m.fields.interest_tags"},
      {"too many entries of a packed enum",
       [](v1::ProfileChange& p) {
         p.add_categories(v1::DATA_CATEGORY_PROFILE);
         p.add_categories(v1::DATA_CATEGORY_PROFILE);
       },
       "m.categories"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    google::protobuf::LogSilencer quiet;
    v1::ProfileChange p = ValidProfileEvent().profile();
    ASSERT_TRUE(CertainlyPassesGenericChecks(p, kLimits));
    c.mutate(p);
    Verdicts v = Judge(p);
    EXPECT_FALSE(v.fast);
    EXPECT_TRUE(RefusesField(v.slow, c.path));
  }
}

TEST(GenericWirePass, AStringWithoutItsOwnLimitIsHeldToTheGenericOne) {
  v1::CatalogueChange c = ValidCatalogueEvent().catalogue();
  c.mutable_item()->set_title(std::string(64, 't'));
  EXPECT_TRUE(Judge(c).fast);
  c.mutable_item()->set_title(std::string(65, 't'));
  Verdicts v = Judge(c);
  EXPECT_FALSE(v.fast);
  EXPECT_TRUE(RefusesField(v.slow, "m.item.title"));
}

TEST(GenericWirePass, LimitsAreInclusiveAndOwnLimitsAreLeftToTheirRules) {
  v1::ProfileChange p = ValidProfileEvent().profile();
  p.clear_categories();
  for (int i = 0; i < 6; ++i) p.add_categories(v1::DATA_CATEGORY_PROFILE);  // exactly the limit
  p.mutable_user()->set_local_user_id(std::string(200, 'u'));    // own limit: not the generic one
  p.mutable_fields()->set_display_name(std::string(200, 'n'));  // own limit: not the generic one
  Verdicts v = Judge(p);
  EXPECT_TRUE(v.fast);
  EXPECT_TRUE(v.slow.ok()) << v.slow;
}

// Random strings: ASCII, valid multi-byte sequences and malformed ones.
std::string RandomText(std::mt19937& rng) {
  static const char* const kPieces[] = {"a", "Z", "7", " ", "é", "中", "😀", "\xff", "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
  std::string out;
  const int n = std::uniform_int_distribution<int>(0, 20)(rng);
  for (int i = 0; i < n; ++i) out += kPieces[std::uniform_int_distribution<size_t>(0, std::size(kPieces) - 1)(rng)];
  return out;
}

// One random change somewhere in `m` or its sub-messages.
void Mutate(Message& m, std::mt19937& rng, int depth = 0) {
  const Reflection* r = m.GetReflection();
  const auto* type = m.GetDescriptor();
  std::uniform_int_distribution<int> pick(0, type->field_count());
  const int i = pick(rng);
  if (i == type->field_count()) {
    if (std::bernoulli_distribution(0.2)(rng)) r->MutableUnknownFields(&m)->AddVarint(900 + depth, 1);
    return;
  }
  const FieldDescriptor* f = type->field(i);
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (depth > 4) return;
    Message* sub = f->is_repeated()
                       ? (r->FieldSize(m, f) > 0 && std::bernoulli_distribution(0.7)(rng)
                              ? r->MutableRepeatedMessage(&m, f, std::uniform_int_distribution<int>(0, r->FieldSize(m, f) - 1)(rng))
                              : r->AddMessage(&m, f))
                       : r->MutableMessage(&m, f);
    Mutate(*sub, rng, depth + 1);
    return;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    if (f->is_repeated()) {
      r->AddString(&m, f, RandomText(rng));
    } else {
      r->SetString(&m, f, RandomText(rng));
    }
  } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && f->is_repeated()) {
    r->AddEnumValue(&m, f, std::uniform_int_distribution<int>(0, 9)(rng));
  } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64 && !f->is_repeated()) {
    r->SetInt64(&m, f, std::uniform_int_distribution<int64_t>(-5, 1'000'000'000)(rng));
  }
}

TEST(GenericWirePass, AgreesWithTheReflectivePassOnRandomMutations) {
  google::protobuf::LogSilencer quiet;  // serializing invalid UTF-8 on purpose
  std::mt19937 rng(20261206);
  int vouched = 0, refused = 0;
  for (int round = 0; round < 4000; ++round) {
    v1::PublishEvent e = round % 2 == 0 ? ValidProfileEvent() : ValidCatalogueEvent();
    Message& m = round % 2 == 0 ? static_cast<Message&>(*e.mutable_profile()) : *e.mutable_catalogue();
    const int changes = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int k = 0; k < changes; ++k) Mutate(m, rng);
    Verdicts v = Judge(m);
    ASSERT_EQ(v.fast, v.slow.ok()) << "round " << round << ": fast pass " << (v.fast ? "vouched" : "refused")
                                   << ", reflective pass: " << v.slow << "\n"
                                   << m.DebugString();
    (v.fast ? vouched : refused)++;
  }
  // Both outcomes are well represented, so the agreement means something.
  EXPECT_GT(vouched, 400);
  EXPECT_GT(refused, 400);
}

}  // namespace
}  // namespace fedhub::stream::validate_test
