#include "demo/demo.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/log.h"
#include "demo/demo_backend.h"
#include "fulcrum/balancer.h"
#include "net/socket.h"

namespace fulcrum::demo {

namespace {

struct DemoBackend {
  std::string name;
  std::string address;
  pid_t pid = -1;
};

// Binds on an ephemeral loopback port in this process, then forks a child that serves it. Done
// before the balancer starts any thread, so fork() is safe.
bool spawn_backend(const std::string& name, DemoBackend& out) {
  auto address = net::Address::parse_numeric("127.0.0.1:0");
  std::string error;
  auto fd = net::bind_listener(*address, 1024, &error);
  if (!fd) {
    log::error("demo backend", {{"error", error}});
    return false;
  }
  out.name = name;
  out.address = net::Address::local_of(fd.get()).to_string();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the demo
    if (getppid() != parent) _exit(0);
    signal(SIGINT, SIG_IGN);           // Ctrl-C is for the balancer, which then stops us
    _exit(serve_demo_backend(std::move(fd), name));
  }
  out.pid = pid;
  return true;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  std::vector<DemoBackend> backends(options.backends);
  for (unsigned i = 0; i < options.backends; ++i) {
    if (!spawn_backend("backend-" + std::to_string(i + 1), backends[i])) return 1;
  }

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
  for (const auto& backend : backends) pool.backends.push_back({backend.address, 1});
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

  std::printf("Fulcrum %s demo: HTTP on %s and TCP on %s, %s over %u demo backends it started:\n", version(),
              options.listen.c_str(), tcp_listen.c_str(), options.strategy.c_str(), options.backends);
  for (const auto& backend : backends) {
    std::printf("  %-10s %-22s pid %d\n", backend.name.c_str(), backend.address.c_str(), backend.pid);
  }
  const std::string& http = options.listen;
  const std::string suggestions[][2] = {
      {"curl -s http://" + http + "/", "each request lands on the next backend"},
      {"curl -si http://" + http + "/ | grep X-Backend", ""},
      {"nc " + host + " " + std::to_string(http_address->port() + 1), "raw TCP: type lines, a backend echoes them"},
      {"kill " + std::to_string(backends.front().pid), "stop backend-1: clients never see it fail"},
      {"wrk -c50 -d5s http://" + http + "/", "load"},
      {"open http://" + admin_listen + "/", "the live dashboard (health checked every second)"},
      {"curl -s http://" + admin_listen + "/metrics", "Prometheus metrics"},
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
  std::printf("Ctrl-C stops the demo.\n\n");
  std::fflush(stdout);

  Balancer balancer(config);
  const int code = balancer.run();
  for (const auto& backend : backends) {
    kill(backend.pid, SIGTERM);
    waitpid(backend.pid, nullptr, 0);
  }
  return code;
}

}  // namespace fulcrum::demo
