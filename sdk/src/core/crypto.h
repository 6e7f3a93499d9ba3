// Cryptographic primitives the hub and the SDK share, over OpenSSL 3.
//
// Everything here is stateless or immutable after construction, so thread-safe.
#ifndef FEDHUB_SDK_CORE_CRYPTO_H_
#define FEDHUB_SDK_CORE_CRYPTO_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fedhub::crypto {

using Digest = std::array<uint8_t, 32>;

// SHA-256 of `data`.
Digest Sha256(std::string_view data);
// SHA-256 over the concatenation of `parts`, without copying them together.
Digest Sha256Parts(std::initializer_list<std::string_view> parts);
// HMAC-SHA256(key, data).
Digest HmacSha256(std::string_view key, std::string_view data);

std::string_view AsView(const Digest& d);
std::string ToString(const Digest& d);

// `n` bytes from the operating system's CSPRNG (RAND_bytes).
std::string RandomBytes(size_t n);

std::string HexEncode(std::string_view bytes);
// Fails on odd length or a non-hex digit.
absl::StatusOr<std::string> HexDecode(std::string_view hex);
// RFC 4648 §5 URL-safe base64 without padding.
std::string Base64UrlEncode(std::string_view bytes);
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);

// Verifies an Ed25519 signature. `public_key` is the 32 raw bytes.
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

// Reads a PEM SubjectPublicKeyInfo holding an Ed25519 key; returns the 32 raw bytes.
absl::StatusOr<std::string> Ed25519PublicKeyFromPem(std::string_view pem);

// An Ed25519 private key. Immutable; Sign is thread-safe.
class SigningKey {
 public:
  static absl::StatusOr<std::unique_ptr<SigningKey>> Generate();
  // Parses a PKCS#8 PEM private key.
  static absl::StatusOr<std::unique_ptr<SigningKey>> FromPem(std::string_view pem);
  // Loads the key at `path`, or, if the file does not exist, generates one and writes it
  // there with mode 0600.
  static absl::StatusOr<std::unique_ptr<SigningKey>> LoadOrCreate(const std::string& path);

  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  std::string Sign(std::string_view message) const;  // 64 bytes
  const std::string& public_key() const { return public_key_; }  // 32 raw bytes
  std::string PublicKeyPem() const;
  std::string PrivateKeyPem() const;
  // First 16 hex digits of SHA-256(public key).
  const std::string& key_id() const { return key_id_; }

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string public_key_;
  std::string key_id_;
};

// Key id for a raw Ed25519 public key, as SigningKey::key_id.
std::string KeyIdFor(std::string_view public_key);

}  // namespace fedhub::crypto

#endif  // FEDHUB_SDK_CORE_CRYPTO_H_
