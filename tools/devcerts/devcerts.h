// Development certificates: a private CA, the hub's server certificate and one client
// certificate per principal, made with OpenSSL. What `fedhubctl dev-certs` writes and what
// the tests use.
//
// Layout of `out_dir` (keys are written with mode 0600):
//   ca.crt  ca.key            the CA (ECDSA P-256, self-signed, CA:TRUE, pathlen 0)
//   hub.crt hub.key           server certificate: SAN DNS:localhost, IP:127.0.0.1, IP:::1,
//                             any extra hub_hosts, and URI spiffe://fedhub/hub/hub
//   <id>.crt <id>.key         client certificate of principal <id>: CN <id>, one SAN
//                             URI spiffe://fedhub/<role>/<id>, extendedKeyUsage clientAuth
//
// Not for production: the CA key sits next to the certificates.
#ifndef FEDHUB_TOOLS_DEVCERTS_DEVCERTS_H_
#define FEDHUB_TOOLS_DEVCERTS_DEVCERTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace fedhub::devcerts {

struct Principal {
  std::string role;  // platform | recommender | auditor | admin
  std::string id;    // [a-z][a-z0-9-]{0,63} as the registry requires; not "ca" or "hub"
};

struct DevCertsOptions {
  std::string out_dir;
  std::vector<Principal> principals;
  // Extra DNS names or IP addresses for the hub's certificate.
  std::vector<std::string> hub_hosts;
  int valid_days = 90;
  // Shifts notBefore (and notAfter) by this many days; negative values make certificates
  // that are already expired when valid_days is small (for tests).
  int not_before_offset_days = 0;
  // false: an existing CA in out_dir is reused and existing leaf files are left alone,
  // so running twice adds principals without invalidating certificates already issued.
  // true: everything is made afresh.
  bool overwrite = false;
};

// Creates out_dir if needed and writes the layout above. INVALID_ARGUMENT for a bad role
// or id, INTERNAL with OpenSSL's reason for anything that fails underneath.
absl::Status GenerateDevCerts(const DevCertsOptions& options);

// Issues one leaf signed by the CA in ca_dir (ca.crt, ca.key). `spiffe_uri` may be empty
// (then the certificate names its principal only by CN). `server` adds serverAuth and the
// hub's host names; otherwise clientAuth.
absl::Status IssueLeaf(const std::string& ca_dir, const std::string& cert_path,
                       const std::string& key_path, const std::string& spiffe_uri,
                       const std::string& common_name, bool server, int valid_days = 90,
                       int not_before_offset_days = 0,
                       const std::vector<std::string>& extra_hosts = {});

bool IsValidRole(const std::string& role);
bool IsValidId(const std::string& id);

}  // namespace fedhub::devcerts

#endif  // FEDHUB_TOOLS_DEVCERTS_DEVCERTS_H_
