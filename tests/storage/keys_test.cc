// Key encodings of every column family (hub/storage/keys.h).
#include "storage/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace fedhub::storage {
namespace {

TEST(Keys, U64IsEightBytesBigEndian) {
  EXPECT_EQ(U64Key(0), std::string(8, '\0'));
  EXPECT_EQ(U64Key(1), std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_EQ(U64Key(0x0102030405060708ull), "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_EQ(U64Key(std::numeric_limits<uint64_t>::max()), std::string(8, '\xff'));

  std::string appended = "x";
  AppendU64BE(&appended, 258);
  EXPECT_EQ(appended, std::string("x\0\0\0\0\0\0\x01\x02", 9));
}

TEST(Keys, U64ReadsBack) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{0x8000000000000000ull}, std::numeric_limits<uint64_t>::max()}) {
    auto back = ReadU64BE(U64Key(v));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, v);
  }
  // Only the first eight bytes count; fewer than eight is not a number.
  EXPECT_EQ(ReadU64BE(U64Key(7) + "tail"), 7u);
  EXPECT_FALSE(ReadU64BE("1234567").has_value());
  EXPECT_FALSE(ReadU64BE("").has_value());
}

TEST(Keys, ByteOrderIsNumericOrder) {
  std::vector<uint64_t> values = {0, 1, 2, 9, 10, 255, 256, 257, 65535, 65536,
                                  (1ull << 32) - 1, 1ull << 32, (1ull << 63) - 1, 1ull << 63,
                                  std::numeric_limits<uint64_t>::max()};
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 500; ++i) values.push_back(rng() >> (rng() % 64));

  std::vector<std::string> keys;
  for (uint64_t v : values) keys.push_back(U64Key(v));
  std::sort(values.begin(), values.end());
  std::sort(keys.begin(), keys.end());  // std::string compares bytes as unsigned char
  ASSERT_EQ(keys.size(), values.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(*ReadU64BE(keys[i]), values[i]) << "position " << i;
  }
}

TEST(Keys, LinkKeyIsPlatformNulLocalId) {
  EXPECT_EQ(LinkKey("plat-a", "u1"), std::string("pplat-a\0u1", 10));
  // The separator keeps (platform, local id) pairs apart when one id is a prefix of
  // another, and keeps each platform's keys a contiguous range.
  EXPECT_NE(LinkKey("ab", "c"), LinkKey("a", "bc"));
  std::string prefix_a = std::string("pa") + '\0';
  EXPECT_EQ(LinkKey("a", "zzz").rfind(prefix_a, 0), 0u);
  EXPECT_NE(LinkKey("ab", "c").rfind(prefix_a, 0), 0u);
  EXPECT_LT(LinkKey("a", "\x7e\x7e"), LinkKey("ab", "!"));
}

TEST(Keys, ReverseLinkKeyIsSubjectThenPlatform) {
  std::string subject(16, '\x5a');
  subject[3] = '\0';  // subjects are raw bytes and may hold zeros
  EXPECT_EQ(ReverseLinkKey(subject, "plat-b"), "s" + subject + "plat-b");
  EXPECT_EQ(ReverseLinkPrefix(subject), "s" + subject);
  EXPECT_EQ(ReverseLinkKey(subject, "plat-b").rfind(ReverseLinkPrefix(subject), 0), 0u);
  // Forward and reverse links share a column family but never a key.
  EXPECT_EQ(LinkKey("x", "y")[0], 'p');
  EXPECT_EQ(ReverseLinkKey(subject, "x")[0], 's');
}

TEST(Keys, SubjectConsentKeyIsSubjectThenConsentId) {
  std::string subject(16, '\x01');
  std::string id = "c-0123456789abcdef0123456789abcdef";
  EXPECT_EQ(SubjectConsentKey(subject, id), subject + id);
  EXPECT_EQ(SubjectConsentKey(subject, id).size(), 16u + 34u);
}

TEST(Keys, HeadKeys) {
  EXPECT_EQ(kAuditHeadKey, "head/audit");
  EXPECT_EQ(kLedgerHeadKey, "head/ledger");
}

}  // namespace
}  // namespace fedhub::storage
