#include "core/crypto.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/strings.h"

namespace fedhub::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kB64Url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

namespace {

// SHA-256 fetched once: OpenSSL 3's one-shot SHA256() and EVP_sha256() look the algorithm
// up by name on every call (a lock and a hash-table probe), which costs as much as hashing
// a few hundred bytes. One context per thread is reused.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

EVP_MD_CTX* ThreadSha256Context() {
  thread_local MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx.get();
}

}  // namespace

Digest Sha256Parts(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadSha256Context();
  EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr);
  for (std::string_view p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  Digest d;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, d.data(), &len);
  return d;
}

Digest Sha256(std::string_view data) { return Sha256Parts({data}); }

Digest HmacSha256(std::string_view key, std::string_view data) {
  Digest d;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data(), &len);
  return d;
}

std::string_view AsView(const Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string ToString(const Digest& d) { return std::string(AsView(d)); }

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // The CSPRNG failing means the process cannot make ids or keys safely at all.
    throw std::runtime_error("RAND_bytes failed: " + OpenSslError());
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

absl::StatusOr<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        Cat("hex string has odd length ", hex.size()));
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          Cat("not a hex digit at offset ", hi < 0 ? i : i + 1));
    }
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out.push_back(kB64Url[v >> 18 & 63]);
    out.push_back(kB64Url[v >> 12 & 63]);
    out.push_back(kB64Url[v >> 6 & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = at(i) << 16;
    out.push_back(kB64Url[v >> 18 & 63]);
    out.push_back(kB64Url[v >> 12 & 63]);
  } else if (rest == 2) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out.push_back(kB64Url[v >> 18 & 63]);
    out.push_back(kB64Url[v >> 12 & 63]);
    out.push_back(kB64Url[v >> 6 & 63]);
  }
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError("base64url text has an impossible length");
  }
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char* p = std::strchr(kB64Url, text[i]);
    if (text[i] == '\0' || p == nullptr) {
      return absl::InvalidArgumentError(
          Cat("not a base64url character at offset ", i));
    }
    acc = acc << 6 | static_cast<uint32_t>(p - kB64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  return out;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  PkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  if (!key) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()),
                            message.size());
  ERR_clear_error();
  return rc == 1;
}

absl::StatusOr<std::string> Ed25519PublicKeyFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError("not a PEM public key: " + OpenSslError());
  }
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the PEM public key is not an Ed25519 key");
  }
  std::string raw(32, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                  &len) != 1 ||
      len != 32) {
    return absl::InternalError("cannot extract the raw Ed25519 key: " + OpenSslError());
  }
  return raw;
}

std::string KeyIdFor(std::string_view public_key) {
  return HexEncode(AsView(Sha256(public_key))).substr(0, 16);
}

struct SigningKey::Impl {
  PkeyPtr key;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  public_key_.assign(32, '\0');
  size_t len = 32;
  EVP_PKEY_get_raw_public_key(impl_->key.get(),
                              reinterpret_cast<unsigned char*>(public_key_.data()), &len);
  key_id_ = KeyIdFor(public_key_);
}

SigningKey::~SigningKey() = default;

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) return absl::InternalError("Ed25519 keygen failed: " + OpenSslError());
  auto impl = std::make_unique<Impl>();
  impl->key.reset(raw);
  return std::unique_ptr<SigningKey>(new SigningKey(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError("not a PEM private key: " + OpenSslError());
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        "the signing key is not Ed25519; generate one with `openssl genpkey -algorithm "
        "ed25519`");
  }
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(key);
  return std::unique_ptr<SigningKey>(new SigningKey(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::LoadOrCreate(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto key = FromPem(ss.str());
    if (!key.ok()) {
      return absl::Status(key.status().code(),
                          Cat(path, ": ", key.status().message()));
    }
    return key;
  }
  auto key = Generate();
  if (!key.ok()) return key.status();
  std::string pem = (*key)->PrivateKeyPem();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        Cat("cannot create signing key ", path, ": ", std::strerror(errno)));
  }
  bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::InternalError(Cat("cannot write signing key ", path));
  return key;
}

std::string SigningKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    throw std::runtime_error("Ed25519 signing failed: " + OpenSslError());
  }
  return sig;
}

std::string SigningKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), impl_->key.get());
  return BioContents(bio.get());
}

std::string SigningKey::PrivateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioContents(bio.get());
}

}  // namespace fedhub::crypto
