// Plain-words descriptions of what moves through the hub, for the example platforms' logs.
#ifndef FEDHUB_EXAMPLES_COMMON_DESCRIBE_H_
#define FEDHUB_EXAMPLES_COMMON_DESCRIBE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fedhub/v1/catalogue.pb.h"
#include "fedhub/v1/common.pb.h"
#include "fedhub/v1/consent.pb.h"
#include "fedhub/v1/profile.pb.h"

namespace fedhub_examples {

// "49.00 EUR" (two decimals: every currency the examples use has cents).
std::string Money(int64_t price_minor, const std::string& currency);

// "COURSE", "DESIGN_SERVICE": the enum value without its prefix.
std::string KindName(fedhub::v1::ItemKind kind);
std::string CategoryName(fedhub::v1::DataCategory category);
std::string ReceiptActionName(fedhub::v1::ReceiptAction action);

// "1 partner profile", "4 partner items".
std::string Count(uint64_t n, const std::string& singular, const std::string& plural);

// "PROFILE, LEARNING".
std::string CategoryList(const std::vector<fedhub::v1::DataCategory>& categories);

// `course-101 "Data Science Foundations" (COURSE, 49.00 EUR)`.
std::string ItemSummary(const fedhub::v1::CatalogueItem& item);

// The fields that are set, e.g. `display name "Ada Lovelace", locale en-GB; enrolments:
// course-101 35%`; "no fields" when none is.
std::string FieldsSummary(const fedhub::v1::ProfileFields& fields);

// The first `keep` characters of a long identifier, then "…".
std::string Abbreviate(const std::string& id, size_t keep = 12);

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_COMMON_DESCRIBE_H_
