#include "config/validate_cluster.h"

#include <cctype>

namespace fulcrum::config {

namespace {

/// Why `url` is not an etcd client URL (`http://127.0.0.1:2379`), or empty.
std::string check_endpoint(const std::string& url) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return "must be an http:// or https:// URL such as http://127.0.0.1:2379 (got '" + url + "')";
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return "must have no path (got '" + url + "')";
  const auto colon = rest.rfind(':');
  if (rest.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size() ||
      (rest.front() == '[' && rest[colon - 1] != ']')) {
    return "must give a host and a port, as in http://127.0.0.1:2379 (got '" + url + "')";
  }
  for (const char c : rest.substr(colon + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return "has a port that is not a number (got '" + url + "')";
  }
  for (const char c : rest) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '@' || c == '?' || c == '#') {
      return "must be a plain http://host:port URL (got '" + url + "')";
    }
  }
  return {};
}

}  // namespace

void check_cluster(std::vector<RuleViolation>& out, const Config& config) {
  if (!config.cluster) return;
  const ClusterConfig& cluster = *config.cluster;
  if (cluster.name.empty()) {
    out.push_back({"cluster.name", "missing: instances with the same cluster name share their state", 0, "cluster"});
  } else if (cluster.name.size() > 64) {
    out.push_back({"cluster.name", "must be at most 64 characters"});
  } else {
    for (const char c : cluster.name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        out.push_back({"cluster.name", "may only hold letters, digits, '-', '_' and '.' (got '" + cluster.name + "')"});
        break;
      }
    }
  }
  const EtcdConfig& etcd = cluster.etcd;
  if (etcd.endpoints.empty()) {
    out.push_back({"cluster.etcd.endpoints", "missing: give at least one etcd client URL (http://127.0.0.1:2379)", 0,
                   "cluster"});
  }
  for (std::size_t i = 0; i < etcd.endpoints.size(); ++i) {
    if (auto why = check_endpoint(etcd.endpoints[i]); !why.empty()) {
      out.push_back({"cluster.etcd.endpoints[" + std::to_string(i) + "]", why});
    }
  }
  if (etcd.prefix.empty() || etcd.prefix.front() != '/' || etcd.prefix.find("//") != std::string::npos) {
    out.push_back({"cluster.etcd.prefix", "must be a key path starting with '/' such as /fulcrum (got '" + etcd.prefix + "')"});
  }
  if (etcd.username.empty() != etcd.password.empty()) {
    // Reported at the key that is there, so that the line points at it.
    out.push_back(etcd.username.empty()
                      ? RuleViolation{"cluster.etcd.password", "needs cluster.etcd.username too (etcd authentication)"}
                      : RuleViolation{"cluster.etcd.username", "needs cluster.etcd.password too (etcd authentication)"});
  }
  if (config.admin && !config.admin->state_file.empty()) {
    out.push_back({"admin.state_file",
                   "not used in cluster mode: runtime changes are kept in etcd (remove admin.state_file or cluster)"});
  }
  for (const PoolConfig& pool : config.pools) {
    if (pool.name.find('/') != std::string::npos) {
      out.push_back({"cluster", "pool name '" + pool.name + "' holds a '/', which etcd keys of the cluster cannot"});
    }
  }
}

}  // namespace fulcrum::config
