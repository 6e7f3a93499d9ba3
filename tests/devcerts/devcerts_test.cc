// Development certificates: they chain to their CA, name their principal by SPIFFE URI,
// keep keys private, and re-running adds principals without replacing the CA.
#include "devcerts/devcerts.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace fedhub::devcerts {
namespace {

namespace fs = std::filesystem;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert Load(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  Cert c(PEM_read_X509(f, nullptr, nullptr, nullptr));
  fclose(f);
  return c;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Returns the X509 verification error (X509_V_OK when the leaf chains to the CA).
int VerifyAgainst(const std::string& ca_path, X509* leaf, int purpose) {
  Cert ca = Load(ca_path);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  int ok = X509_verify_cert(ctx);
  int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return err;
}

std::vector<std::string> Sans(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_URI || n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->type == GEN_URI ? n->d.uniformResourceIdentifier : n->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

class DevCertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "devcerts-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(DevCertsTest, WritesTheDocumentedLayoutThatChainsToTheCa) {
  DevCertsOptions o{.out_dir = dir_,
                    .principals = {{"platform", "courses"}, {"auditor", "auditor"}}};
  ASSERT_TRUE(GenerateDevCerts(o).ok());
  for (const char* f : {"ca.crt", "ca.key", "hub.crt", "hub.key", "courses.crt", "courses.key",
                        "auditor.crt", "auditor.key"}) {
    EXPECT_TRUE(fs::exists(dir_ + "/" + f)) << f;
  }
  Cert hub = Load(dir_ + "/hub.crt");
  ASSERT_TRUE(hub);
  EXPECT_EQ(VerifyAgainst(dir_ + "/ca.crt", hub.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  auto hub_sans = Sans(hub.get());
  EXPECT_NE(std::find(hub_sans.begin(), hub_sans.end(), "localhost"), hub_sans.end());

  Cert courses = Load(dir_ + "/courses.crt");
  ASSERT_TRUE(courses);
  EXPECT_EQ(VerifyAgainst(dir_ + "/ca.crt", courses.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  // A client certificate is not a server certificate.
  EXPECT_NE(VerifyAgainst(dir_ + "/ca.crt", courses.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(Sans(courses.get()), std::vector<std::string>{"spiffe://fedhub/platform/courses"});
}

TEST_F(DevCertsTest, KeysAreReadableOnlyByTheOwner) {
  ASSERT_TRUE(GenerateDevCerts({.out_dir = dir_, .principals = {{"admin", "operator"}}}).ok());
  for (const char* f : {"ca.key", "hub.key", "operator.key"}) {
    struct stat st {};
    ASSERT_EQ(stat((dir_ + "/" + f).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
}

TEST_F(DevCertsTest, RerunKeepsTheCaAndAddsPrincipals) {
  ASSERT_TRUE(GenerateDevCerts({.out_dir = dir_, .principals = {{"platform", "courses"}}}).ok());
  std::string ca = ReadAll(dir_ + "/ca.crt");
  std::string courses = ReadAll(dir_ + "/courses.crt");
  ASSERT_TRUE(GenerateDevCerts({.out_dir = dir_,
                                .principals = {{"platform", "courses"}, {"platform", "store"}}})
                  .ok());
  EXPECT_EQ(ReadAll(dir_ + "/ca.crt"), ca);
  EXPECT_EQ(ReadAll(dir_ + "/courses.crt"), courses);
  Cert store = Load(dir_ + "/store.crt");
  ASSERT_TRUE(store);
  EXPECT_EQ(VerifyAgainst(dir_ + "/ca.crt", store.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);

  ASSERT_TRUE(GenerateDevCerts({.out_dir = dir_, .principals = {{"platform", "courses"}},
                                .overwrite = true})
                  .ok());
  EXPECT_NE(ReadAll(dir_ + "/ca.crt"), ca);
  // The old store certificate no longer chains to the new CA.
  EXPECT_NE(VerifyAgainst(dir_ + "/ca.crt", store.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST_F(DevCertsTest, ExpiredCertificatesCanBeMadeForTests) {
  ASSERT_TRUE(GenerateDevCerts({.out_dir = dir_}).ok());
  ASSERT_TRUE(IssueLeaf(dir_, dir_ + "/old.crt", dir_ + "/old.key",
                        "spiffe://fedhub/platform/old", "old", false, /*valid_days=*/1,
                        /*not_before_offset_days=*/-10)
                  .ok());
  Cert old = Load(dir_ + "/old.crt");
  EXPECT_EQ(VerifyAgainst(dir_ + "/ca.crt", old.get(), X509_PURPOSE_SSL_CLIENT),
            X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(DevCertsTest, RefusesBadRolesAndIds) {
  absl::Status role = GenerateDevCerts({.out_dir = dir_, .principals = {{"root", "x"}}});
  EXPECT_EQ(role.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(role.message().find("platform, recommender, auditor, admin"), std::string::npos);
  for (const char* id : {"", "Courses", "-x", "1x", "a_b", "a.b", "hub", "ca"}) {
    absl::Status s = GenerateDevCerts({.out_dir = dir_, .principals = {{"platform", id}}});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/ca.crt")) << "nothing is written for a refused request";
  EXPECT_TRUE(IsValidId("store-2-eu-west"));
}

}  // namespace
}  // namespace fedhub::devcerts
