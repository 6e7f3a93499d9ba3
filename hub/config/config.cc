#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>

#include "core/strings.h"

namespace fedhub::config {
namespace {

using Setter = std::function<absl::Status(HubConfig&, const std::string&)>;

constexpr int kNoMax = std::numeric_limits<int>::max();

// An integer from `min` to `max`; the message names the key and the bounds.
absl::Status ParseInt(const std::string& key, const std::string& v, int min, int* out,
                      int max = kNoMax) {
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used != v.size() || n < min || n > max) throw std::invalid_argument(v);
    *out = n;
    return absl::OkStatus();
  } catch (const std::exception&) {
    if (max == kNoMax) {
      return absl::InvalidArgumentError(Cat(key, ": \"", v, "\" is not an integer >= ", min));
    }
    return absl::InvalidArgumentError(
        Cat(key, ": \"", v, "\" is not an integer from ", min, " to ", max));
  }
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    if (comma > start) out.push_back(v.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

const std::map<std::string, Setter>& Setters() {
  static const auto* kSetters = new std::map<std::string, Setter>{
      {"listen", [](HubConfig& c, const std::string& v) { c.listen = v; return absl::OkStatus(); }},
      {"health_listen", [](HubConfig& c, const std::string& v) { c.health_listen = v; return absl::OkStatus(); }},
      {"metrics_listen", [](HubConfig& c, const std::string& v) { c.metrics_listen = v; return absl::OkStatus(); }},
      {"data_dir", [](HubConfig& c, const std::string& v) { c.data_dir = v; return absl::OkStatus(); }},
      {"tls_cert", [](HubConfig& c, const std::string& v) { c.tls_cert = v; return absl::OkStatus(); }},
      {"tls_key", [](HubConfig& c, const std::string& v) { c.tls_key = v; return absl::OkStatus(); }},
      {"tls_ca", [](HubConfig& c, const std::string& v) { c.tls_ca = v; return absl::OkStatus(); }},
      {"signing_key", [](HubConfig& c, const std::string& v) { c.signing_key = v; return absl::OkStatus(); }},
      {"port_file", [](HubConfig& c, const std::string& v) { c.port_file = v; return absl::OkStatus(); }},
      {"bootstrap_admins", [](HubConfig& c, const std::string& v) { c.bootstrap_admins = SplitList(v); return absl::OkStatus(); }},
      {"ticket_ttl_seconds", [](HubConfig& c, const std::string& v) { return ParseInt("ticket_ttl_seconds", v, 1, &c.ticket_ttl_seconds); }},
      {"max_consent_days", [](HubConfig& c, const std::string& v) { return ParseInt("max_consent_days", v, 1, &c.max_consent_days); }},
      {"max_threads", [](HubConfig& c, const std::string& v) { return ParseInt("max_threads", v, 4, &c.max_threads); }},
      {"stream_retention_hours", [](HubConfig& c, const std::string& v) { return ParseInt("stream_retention_hours", v, 0, &c.stream_retention_hours); }},
      {"stream_retention_mb", [](HubConfig& c, const std::string& v) { return ParseInt("stream_retention_mb", v, 0, &c.stream_retention_mb); }},
      {"stream_trim_interval_seconds", [](HubConfig& c, const std::string& v) { return ParseInt("stream_trim_interval_seconds", v, 1, &c.stream_trim_interval_seconds); }},
      {"stream_subscriber_buffer_events", [](HubConfig& c, const std::string& v) { return ParseInt("stream_subscriber_buffer_events", v, 1, &c.stream_subscriber_buffer_events); }},
      {"tree_head_interval_seconds", [](HubConfig& c, const std::string& v) { return ParseInt("tree_head_interval_seconds", v, 0, &c.tree_head_interval_seconds); }},
      {"stream_max_batch_events", [](HubConfig& c, const std::string& v) { return ParseInt("stream_max_batch_events", v, 1, &c.stream_max_batch_events, kMaxStreamBatchEvents); }},
  };
  return *kSetters;
}

std::string Normalise(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

}  // namespace

absl::StatusOr<HubConfig> LoadFile(const std::string& path, HubConfig config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(Cat("config ", path, ": ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(Cat("config ", path, ": expected a mapping of keys"));
  for (const auto& kv : root) {
    std::string key = Normalise(kv.first.as<std::string>());
    auto it = Setters().find(key);
    if (it == Setters().end()) {
      return absl::InvalidArgumentError(Cat("config ", path, ": unknown key \"", key, "\""));
    }
    std::string value;
    if (kv.second.IsSequence()) {
      for (const auto& item : kv.second) value += (value.empty() ? "" : ",") + item.as<std::string>();
    } else {
      value = kv.second.as<std::string>();
    }
    if (absl::Status s = it->second(config, value); !s.ok()) {
      return absl::InvalidArgumentError(Cat("config ", path, ": ", ToStd(s.message())));
    }
  }
  return config;
}

absl::StatusOr<HubConfig> FromArgs(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return absl::InvalidArgumentError(Cat("unexpected argument \"", arg, "\"\n", Usage()));
    arg = arg.substr(2);
    std::string key, value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else {
      key = arg;
      if (i + 1 >= argc) return absl::InvalidArgumentError(Cat("--", key, " needs a value\n", Usage()));
      value = argv[++i];
    }
    key = Normalise(key);
    if (key == "config") {
      config_path = value;
    } else if (Setters().count(key) == 0) {
      return absl::InvalidArgumentError(Cat("unknown flag --", key, "\n", Usage()));
    } else {
      flags.emplace_back(key, value);
    }
  }
  HubConfig config;
  if (!config_path.empty()) {
    auto loaded = LoadFile(config_path);
    if (!loaded.ok()) return loaded.status();
    config = *loaded;
  }
  for (auto& [key, value] : flags) {
    if (absl::Status s = Setters().at(key)(config, value); !s.ok()) return s;
  }
  return config;
}

std::string Usage() {
  return "usage: fedhubd [--config FILE] [--listen HOST:PORT] [--health-listen HOST:PORT]\n"
         "               [--metrics-listen HOST:PORT] [--data-dir DIR] [--tls-cert PEM]\n"
         "               [--tls-key PEM] [--tls-ca PEM] [--signing-key PEM]\n"
         "               [--bootstrap-admins ID,ID] [--ticket-ttl-seconds N]\n"
         "               [--max-consent-days N] [--max-threads N] [--port-file FILE]\n"
         "Every flag can also be a key of the YAML config file (with '_' for '-').\n";
}

}  // namespace fedhub::config
