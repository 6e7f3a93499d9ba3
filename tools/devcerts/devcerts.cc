#include "devcerts/devcerts.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace fedhub::devcerts {
namespace {

namespace fs = std::filesystem;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(FILE* f) const { fclose(f); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using File = std::unique_ptr<FILE, FileClose>;

absl::Status OpensslError(const std::string& what) {
  unsigned long err = ERR_get_error();
  char buf[256] = "no OpenSSL error queued";
  if (err != 0) ERR_error_string_n(err, buf, sizeof buf);
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", buf));
}

absl::Status WriteKey(const std::string& path, EVP_PKEY* key) {
  // Created 0600 from the start, so the key is never readable by others.
  std::error_code ec;
  fs::remove(path, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path));
  File f(fdopen(fd, "w"));
  if (!f || PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError(absl::StrCat("cannot write key ", path));
  }
  return absl::OkStatus();
}

absl::Status WriteCert(const std::string& path, X509* cert) {
  File f(fopen(path.c_str(), "w"));
  if (!f || PEM_write_X509(f.get(), cert) != 1) {
    return OpensslError(absl::StrCat("cannot write certificate ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<Pkey> ReadKey(const std::string& path) {
  File f(fopen(path.c_str(), "r"));
  if (!f) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Pkey key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
  if (!key) return OpensslError(absl::StrCat("cannot read key ", path));
  return key;
}

absl::StatusOr<Cert> ReadCert(const std::string& path) {
  File f(fopen(path.c_str(), "r"));
  if (!f) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Cert cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpensslError(absl::StrCat("cannot read certificate ", path));
  return cert;
}

absl::StatusOr<Pkey> NewKey() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("cannot generate a P-256 key");
  return key;
}

absl::Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpensslError(absl::StrCat("bad extension ", OBJ_nid2sn(nid), "=", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpensslError("cannot add extension");
  return absl::OkStatus();
}

// A certificate skeleton: random serial, subject CN, validity window.
absl::StatusOr<Cert> NewCert(EVP_PKEY* key, const std::string& cn, int valid_days,
                             int offset_days) {
  Cert cert(X509_new());
  if (!cert) return OpensslError("X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpensslError("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  const long offset = static_cast<long>(offset_days) * 86400;
  // Back-dated one hour so a freshly issued certificate is valid despite small clock skew.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), offset - 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), offset + static_cast<long>(valid_days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("FedHub development"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (X509_set_pubkey(cert.get(), key) != 1) return OpensslError("X509_set_pubkey");
  return cert;
}

absl::Status MakeCa(const std::string& dir, int valid_days, int offset_days) {
  auto key = NewKey();
  if (!key.ok()) return key.status();
  // The CA outlives its leaves so that re-issuing leaves never needs a new CA.
  auto cert = NewCert(key->get(), "FedHub development CA", valid_days * 4, offset_days);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (absl::Status s = AddExt(c, c, nid, value); !s.ok()) return s;
  }
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) return OpensslError("cannot sign the CA");
  if (absl::Status s = WriteKey(dir + "/ca.key", key->get()); !s.ok()) return s;
  return WriteCert(dir + "/ca.crt", c);
}

std::string HostEntry(const std::string& host) {
  bool ip = host.find(':') != std::string::npos ||
            host.find_first_not_of("0123456789.") == std::string::npos;
  return absl::StrCat(ip ? "IP:" : "DNS:", host);
}

}  // namespace

bool IsValidRole(const std::string& role) {
  return role == "platform" || role == "recommender" || role == "auditor" || role == "admin";
}

bool IsValidId(const std::string& id) {
  // The registry's rule for principal ids (hub/identity/ids.cc).
  if (id.empty() || id.size() > 64 || id[0] < 'a' || id[0] > 'z') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

absl::Status IssueLeaf(const std::string& ca_dir, const std::string& cert_path,
                       const std::string& key_path, const std::string& spiffe_uri,
                       const std::string& common_name, bool server, int valid_days,
                       int not_before_offset_days, const std::vector<std::string>& extra_hosts) {
  auto ca_key = ReadKey(ca_dir + "/ca.key");
  if (!ca_key.ok()) return ca_key.status();
  auto ca_cert = ReadCert(ca_dir + "/ca.crt");
  if (!ca_cert.ok()) return ca_cert.status();
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = NewCert(key->get(), common_name, valid_days, not_before_offset_days);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(ca_cert->get()));

  std::string san;
  if (server) {
    san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    for (const std::string& h : extra_hosts) absl::StrAppend(&san, ",", HostEntry(h));
  }
  if (!spiffe_uri.empty()) absl::StrAppend(&san, san.empty() ? "" : ",", "URI:", spiffe_uri);
  std::vector<std::pair<int, std::string>> exts = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, server ? "serverAuth" : "clientAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"}};
  if (!san.empty()) exts.emplace_back(NID_subject_alt_name, san);
  for (const auto& [nid, value] : exts) {
    if (absl::Status s = AddExt(c, ca_cert->get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(c, ca_key->get(), EVP_sha256()) == 0) {
    return OpensslError(absl::StrCat("cannot sign ", cert_path));
  }
  if (absl::Status s = WriteKey(key_path, key->get()); !s.ok()) return s;
  return WriteCert(cert_path, c);
}

absl::Status GenerateDevCerts(const DevCertsOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("dev certs need an output directory");
  if (options.valid_days < 1) {
    return absl::InvalidArgumentError(absl::StrCat("valid_days must be at least 1, got ", options.valid_days));
  }
  for (const Principal& p : options.principals) {
    if (!IsValidRole(p.role)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "role '", p.role, "' of '", p.id, "' is not one of platform, recommender, auditor, admin"));
    }
    if (!IsValidId(p.id) || p.id == "ca" || p.id == "hub") {
      return absl::InvalidArgumentError(absl::StrCat(
          "principal id '", p.id,
          "' must be 1-64 of a-z, 0-9 and '-', start with a letter, and not be 'ca' or 'hub'"));
    }
  }
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", options.out_dir, ": ", ec.message()));
  const std::string& dir = options.out_dir;
  auto exists = [&](const std::string& name) { return fs::exists(dir + "/" + name); };

  const bool fresh = options.overwrite || !exists("ca.crt") || !exists("ca.key");
  if (fresh) {
    if (absl::Status s = MakeCa(dir, options.valid_days, options.not_before_offset_days); !s.ok()) return s;
  }
  if (fresh || !exists("hub.crt") || !exists("hub.key")) {
    if (absl::Status s = IssueLeaf(dir, dir + "/hub.crt", dir + "/hub.key", "spiffe://fedhub/hub/hub",
                                   "fedhub hub", /*server=*/true, options.valid_days,
                                   options.not_before_offset_days, options.hub_hosts);
        !s.ok()) {
      return s;
    }
  }
  for (const Principal& p : options.principals) {
    if (!fresh && exists(p.id + ".crt") && exists(p.id + ".key")) continue;
    if (absl::Status s = IssueLeaf(dir, absl::StrCat(dir, "/", p.id, ".crt"),
                                   absl::StrCat(dir, "/", p.id, ".key"),
                                   absl::StrCat("spiffe://fedhub/", p.role, "/", p.id), p.id,
                                   /*server=*/false, options.valid_days,
                                   options.not_before_offset_days);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace fedhub::devcerts
