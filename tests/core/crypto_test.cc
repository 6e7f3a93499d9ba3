// Hashes, encodings and Ed25519 keys shared by the hub and the SDK, against published
// test vectors (FIPS 180-2, RFC 4231, RFC 4648, RFC 8032).
#include "core/crypto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "scratch_dir.h"

namespace fedhub::crypto {
namespace {

using ::testing::HasSubstr;

std::string HexOf(const Digest& d) { return HexEncode(AsView(d)); }

std::string Unhex(std::string_view hex) {
  auto r = HexDecode(hex);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::string();
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(HexOf(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, PartsEqualTheConcatenation) {
  EXPECT_EQ(Sha256Parts({"a", "", "bc"}), Sha256("abc"));
  EXPECT_EQ(Sha256Parts({}), Sha256(""));
  std::string with_nul("x\0y", 3);
  EXPECT_EQ(Sha256Parts({"x", std::string_view("\0", 1), "y"}), Sha256(with_nul));
}

TEST(HmacSha256, Rfc4231Vectors) {
  // Test case 1.
  EXPECT_EQ(HexOf(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2.
  EXPECT_EQ(HexOf(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size.
  EXPECT_EQ(HexOf(HmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Digest, ViewsAndStrings) {
  Digest d = Sha256("abc");
  EXPECT_EQ(AsView(d).size(), 32u);
  EXPECT_EQ(ToString(d), std::string(AsView(d)));
  EXPECT_EQ(static_cast<uint8_t>(ToString(d)[0]), 0xba);
}

TEST(Hex, EncodesLowercaseAndRoundTrips) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  auto back = HexDecode(HexEncode(all));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  auto upper = HexDecode("ABff");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, "\xab\xff");
}

TEST(Hex, RejectsOddLengthAndNonHex) {
  auto odd = HexDecode("abc");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(odd.status().message()), HasSubstr("odd length"));
  auto bad = HexDecode("00zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("offset 2"));
}

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: '-' and '_' where standard base64 has '+' and '/'.
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlEncode(std::string(32, '\xff')).size(), 43u);
}

TEST(Base64Url, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(255 - i));
  for (size_t n = 0; n <= all.size(); n += (n < 10 ? 1 : 37)) {
    std::string in = all.substr(0, n);
    std::string text = Base64UrlEncode(in);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto out = Base64UrlDecode(text);
    ASSERT_TRUE(out.ok()) << "length " << n << ": " << out.status();
    EXPECT_EQ(*out, in) << "length " << n;
  }
}

TEST(Base64Url, RejectsBadText) {
  EXPECT_EQ(Base64UrlDecode("Zm9vY").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Base64UrlDecode("Zm+v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Base64UrlDecode("Zg==").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Base64UrlDecode(std::string_view("Zm\0v", 4)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RandomBytes, HasTheLengthAskedAndDiffers) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(16).size(), 16u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

// RFC 8032 §7.1, test 1.
constexpr char kRfcSecretPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kRfcPublicHex[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kRfcSignatureHex[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
    "46bd25bf5f0595bbe24655141438e7a100b";

TEST(Ed25519, Rfc8032Vector) {
  auto key = SigningKey::FromPem(kRfcSecretPem);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(HexEncode((*key)->public_key()), kRfcPublicHex);
  EXPECT_EQ(HexEncode((*key)->Sign("")), kRfcSignatureHex);
  EXPECT_TRUE(Ed25519Verify(Unhex(kRfcPublicHex), "", Unhex(kRfcSignatureHex)));
  EXPECT_FALSE(Ed25519Verify(Unhex(kRfcPublicHex), "x", Unhex(kRfcSignatureHex)));
  EXPECT_FALSE(Ed25519Verify(Unhex(kRfcPublicHex).substr(1), "", Unhex(kRfcSignatureHex)));
  EXPECT_FALSE(Ed25519Verify(Unhex(kRfcPublicHex), "", Unhex(kRfcSignatureHex).substr(1)));
}

TEST(Ed25519, KeyIdIsThePrefixOfThePublicKeyHash) {
  std::string pub = Unhex(kRfcPublicHex);
  EXPECT_EQ(KeyIdFor(pub), "21fe31dfa154a261");
  EXPECT_EQ(KeyIdFor(pub), HexOf(Sha256(pub)).substr(0, 16));
  auto key = SigningKey::FromPem(kRfcSecretPem);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)->key_id(), "21fe31dfa154a261");
}

TEST(Ed25519, PemRoundTrips) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  auto pub = Ed25519PublicKeyFromPem((*key)->PublicKeyPem());
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(*pub, (*key)->public_key());
  auto again = SigningKey::FromPem((*key)->PrivateKeyPem());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->public_key(), (*key)->public_key());
  std::string sig = (*again)->Sign("message");
  EXPECT_TRUE(Ed25519Verify((*key)->public_key(), "message", sig));
}

TEST(Ed25519, RejectsOtherKeyTypesAndJunk) {
  constexpr char kP256Pem[] =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghf2cZCbHDMfktnpc\n"
      "de0Ooj3JWnImB+8FrKJo7o6YE6qhRANCAARLTGODG2DSaQB/M7nUe/yO9oHmkQF+\n"
      "O90EDxtZg9Y5GjscMMTyfYIFH2X/kTsdjKeicPW1fuxK/CcMJrtEVixm\n"
      "-----END PRIVATE KEY-----\n";
  auto ec = SigningKey::FromPem(kP256Pem);
  ASSERT_FALSE(ec.ok());
  EXPECT_EQ(ec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ec.status().message()), HasSubstr("not Ed25519"));
  EXPECT_FALSE(SigningKey::FromPem("not a key").ok());
  EXPECT_FALSE(Ed25519PublicKeyFromPem("not a key").ok());
}

TEST(SigningKey, LoadOrCreatePersistsPrivatelyAndReloads) {
  testing::ScratchDir dir;
  std::string path = dir.Sub("signing.key");
  auto created = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status();

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto reloaded = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ((*reloaded)->public_key(), (*created)->public_key());
  EXPECT_EQ((*reloaded)->key_id(), (*created)->key_id());
  EXPECT_EQ((*reloaded)->key_id(), KeyIdFor((*created)->public_key()));
  EXPECT_TRUE(Ed25519Verify((*created)->public_key(), "m", (*reloaded)->Sign("m")));
}

TEST(SigningKey, LoadOrCreateNamesAFileThatIsNotAKey) {
  testing::ScratchDir dir;
  std::string path = dir.Sub("signing.key");
  std::ofstream(path) << "garbage\n";
  auto key = SigningKey::LoadOrCreate(path);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(std::string(key.status().message()), HasSubstr(path));
}

TEST(SigningKey, LoadOrCreateFailsInAMissingDirectory) {
  testing::ScratchDir dir;
  auto key = SigningKey::LoadOrCreate(dir.Sub("missing/signing.key"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fedhub::crypto
