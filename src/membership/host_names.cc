// `fulcrum check` resolves the backends given by host name, as `run` would, and warns about those
// that do not resolve (an error would be wrong: the network where Fulcrum runs may differ).
// Declared with the configuration model (fulcrum/config.h) but kept here, beside the DNS source it
// mirrors: the model itself stays plain data and rules, free of sockets and resolvers.
#include <map>

#include "config/key_path.h"
#include "fulcrum/config.h"
#include "net/address.h"
#include "net/dns_resolver.h"

namespace fulcrum {

namespace {
/// Long enough for a slow server's second try; a check does not hang on a dead one.
constexpr auto kCheckBudget = std::chrono::seconds(6);
}  // namespace

std::vector<ConfigError> check_host_names(const Config& config, const std::string& file) {
  std::vector<ConfigError> warnings;
  struct Use {
    std::string key;
    std::string host;
    std::uint16_t port;
  };
  std::vector<Use> uses;
  for (const PoolConfig& pool : config.pools) {
    const std::string list = config::child_path(config::child_path("pools", pool.name), "backends");
    for (std::size_t j = 0; j < pool.backends.size(); ++j) {
      const std::string& address = pool.backends[j].address;
      if (net::Address::parse_numeric(address)) continue;
      auto parts = parse_host_port(address);
      if (!parts) continue;  // the validator reports it
      uses.push_back({config::child_path(config::item_path(list, j), "address"), parts->host, parts->port});
    }
  }
  if (uses.empty()) return warnings;
  std::string error;
  auto resolver = net::DnsResolver::create({.servers = config.resolver.servers}, &error);
  if (!resolver) {
    warnings.push_back({file, 0, "resolver", "cannot look host names up: " + error});
    return warnings;
  }
  // Each name once, however many backends use it.
  std::map<std::string, net::Resolution> answers;
  for (const Use& use : uses) {
    if (answers.count(use.host) != 0) continue;
    answers[use.host].error = "no answer";
    net::Resolution* slot = &answers[use.host];
    resolver->resolve(use.host, use.port, [slot](net::Resolution answer) { *slot = std::move(answer); });
  }
  resolver->run_until_done(core::Clock::now() + kCheckBudget);
  for (const Use& use : uses) {
    const net::Resolution& answer = answers[use.host];
    if (answer.ok()) continue;
    warnings.push_back({file, 0, use.key,
                        "cannot resolve host '" + use.host + "' (" + answer.error +
                            "): `run` starts without it and keeps trying every resolve_interval"});
  }
  return warnings;
}

}  // namespace fulcrum
