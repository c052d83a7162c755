#include "demo/demo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

#include "core/log.h"
#include "fulcrum/balancer.h"
#include "net/address.h"

namespace fulcrum::demo {

namespace {

/// Where the demo's instances listen: a hundred ports above the HTTP listener's (below it near the
/// top of the range).
std::pair<std::uint32_t, std::uint32_t> instance_ports(std::uint16_t http) {
  const std::uint32_t base = http + 100u + 99u <= 65535u ? http + 100u : http - 200u;
  return {base, base + 99};
}

/// `backend-1` for index 0: what the demo backend started with `--index 0` answers as.
std::string backend_name(const nlohmann::json& details) {
  return "backend-" + std::to_string(details.value("index", 0u) + 1);
}

/// Prints the banner and what to try once every instance is ready the first time, then each
/// instance that comes back, and each exit. Event callbacks run on the control thread, one at a time.
class DemoReporter {
 public:
  DemoReporter(const DemoOptions& options, std::string tcp_listen, std::string admin_listen)
      : options_(options), tcp_listen_(std::move(tcp_listen)), admin_listen_(std::move(admin_listen)) {}

  void ready(const EventData& event) {
    const auto details = nlohmann::json::parse(event.details, nullptr, false);
    if (!details.is_object()) return;
    const std::string name = backend_name(details);
    const std::string address = "127.0.0.1:" + std::to_string(details.value("port", 0));
    const int pid = details.value("pid", 0);
    if (printed_) {
      std::printf("%s is back on %s, pid %d, and takes traffic again\n", name.c_str(),
                  address.c_str(), pid);
      std::fflush(stdout);
      return;
    }
    ready_[name] = {address, pid};
    if (ready_.size() == options_.backends) print_banner();
  }

  void exited(const EventData& event) {
    if (!printed_) return;
    const auto details = nlohmann::json::parse(event.details, nullptr, false);
    if (!details.is_object() || details.value("expected", false)) return;
    std::string how = details.contains("signal") ? "signal " + details.value("signal", std::string())
                                                 : "exit status " + std::to_string(details.value("status", 0));
    std::printf("%s exited (%s): out of the pool at once, restarted after its backoff\n",
                backend_name(details).c_str(), how.c_str());
    std::fflush(stdout);
  }

 private:
  void print_banner() {
    printed_ = true;
    const std::string& http = options_.listen;
    std::printf("Fulcrum %s demo: HTTP on %s and TCP on %s, %s over %u demo backends it runs as a managed pool:\n",
                version(), http.c_str(), tcp_listen_.c_str(), options_.strategy.c_str(), options_.backends);
    for (const auto& [name, where] : ready_) {
      std::printf("  %-10s %-22s pid %d\n", name.c_str(), where.first.c_str(), where.second);
    }
    const std::string host = http.substr(0, http.rfind(':'));
    const std::string suggestions[][2] = {
        {"curl -s http://" + http + "/", "each request lands on the next backend"},
        {"curl -si http://" + http + "/ | grep X-Backend", ""},
        {"nc " + host + " " + tcp_listen_.substr(tcp_listen_.rfind(':') + 1), "raw TCP: type lines, a backend echoes them"},
        {"kill " + std::to_string(ready_.begin()->second.second),
         "stop backend-1: clients never see it fail, and Fulcrum starts it again"},
        {"wrk -c50 -d5s http://" + http + "/", "load"},
        {"open http://" + admin_listen_ + "/", "the live dashboard: backends, instances, restarts"},
        {"curl -s http://" + admin_listen_ + "/api/pools/demo/instances", "the instances Fulcrum runs"},
        {"curl -s http://" + admin_listen_ + "/metrics", "Prometheus metrics"},
    };
    std::size_t width = 0;
    for (const auto& [command, comment] : suggestions) {
      if (!comment.empty()) width = std::max(width, command.size());
    }
    std::printf("\nTry:\n");
    for (const auto& [command, comment] : suggestions) {
      if (comment.empty()) {
        std::printf("  %s\n", command.c_str());
      } else {
        std::printf("  %-*s  # %s\n", static_cast<int>(width), command.c_str(), comment.c_str());
      }
    }
    std::printf("Ctrl-C stops the demo and its backends.\n\n");
    std::fflush(stdout);
  }

  const DemoOptions& options_;
  std::string tcp_listen_;
  std::string admin_listen_;
  std::map<std::string, std::pair<std::string, int>> ready_;
  bool printed_ = false;
};

}  // namespace

int run_demo(const DemoOptions& options) {
  const auto http_address = net::Address::resolve(options.listen);
  if (!http_address) {
    log::error("demo: bad --listen address", {{"listen", options.listen}});
    return 2;
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  const std::string tcp_listen = host + ":" + std::to_string(http_address->port() + 1);

  Config config;
  config.drain_timeout = std::chrono::seconds(2);
  ListenerConfig web;
  web.name = "web";
  web.listen = options.listen;
  web.mode = ListenerMode::Http;
  web.pool = "demo";
  web.unavailable = "fulcrum demo: every backend is down, try again later\n";
  config.listeners.push_back(web);
  ListenerConfig tcp;
  tcp.name = "tcp";
  tcp.listen = tcp_listen;
  tcp.mode = ListenerMode::Tcp;
  tcp.pool = "demo";
  tcp.unavailable = web.unavailable;
  config.listeners.push_back(tcp);
  PoolConfig pool;
  pool.name = "demo";
  pool.strategy = options.strategy;
  pool.connect_timeout = std::chrono::seconds(1);
  pool.deactivate_for = std::chrono::seconds(10);
  // The backends are Fulcrum's own managed instances: this very binary's `demo-backend`, one port
  // each, started again after a second when one exits (or is killed).
  ManagedConfig managed;
  managed.command = {"/proc/self/exe", "demo-backend", "--listen", "127.0.0.1:{port}", "--index", "{index}"};
  std::tie(managed.port_min, managed.port_max) = instance_ports(http_address->port());
  managed.instances = {options.backends, options.backends};
  managed.ready.kind = ManagedReadyConfig::Kind::Http;
  managed.ready.http_path = "/";
  managed.ready.timeout = std::chrono::seconds(10);
  managed.stop.timeout = std::chrono::seconds(2);
  managed.restart.backoff_min = std::chrono::seconds(1);
  managed.restart.backoff_max = std::chrono::seconds(10);
  managed.restart.reset_after = std::chrono::seconds(30);
  pool.managed = managed;
  HealthCheckConfig health;
  health.kind = HealthCheckConfig::Kind::Http;
  health.http_path = "/";
  health.interval = std::chrono::seconds(1);
  health.timeout = std::chrono::milliseconds(500);
  health.rise = 2;
  health.fall = 2;
  pool.health = health;
  config.pools.push_back(pool);
  const std::string admin_listen = host + ":" + std::to_string(http_address->port() + 10);
  config.admin = AdminConfig{admin_listen, ""};

  Balancer balancer(config);
  DemoReporter reporter(options, tcp_listen, admin_listen);
  balancer.on(Event::InstanceReady, [&reporter](const EventData& event) { reporter.ready(event); });
  balancer.on(Event::InstanceExited, [&reporter](const EventData& event) { reporter.exited(event); });
  return balancer.run();
}

}  // namespace fulcrum::demo
