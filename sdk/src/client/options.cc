#include "fedhub/options.h"

namespace fedhub {

ClientOptions ClientOptions::ForPrincipal(const std::string& certs_dir, const std::string& id,
                                          const std::string& endpoint) {
  ClientOptions options;
  options.endpoint = endpoint;
  const std::string dir =
      certs_dir.empty() || certs_dir.back() == '/' ? certs_dir : certs_dir + "/";
  options.ca_cert_file = dir + "ca.crt";
  options.cert_file = dir + id + ".crt";
  options.key_file = dir + id + ".key";
  return options;
}

}  // namespace fedhub
