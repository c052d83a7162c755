// fulcrum::Balancer: builds the runtime from a Config (pools, listeners, workers, control thread)
// and runs it until stopped.
#include "fulcrum/balancer.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/log.h"
#include "http/http_context.h"
#include "net/socket.h"
#include "runtime/control_plane.h"
#include "runtime/listener_state.h"
#include "runtime/worker.h"
#include "upstream/pool.h"

namespace fulcrum {

namespace {

unsigned worker_count(const Config& config) {
  if (config.workers > 0) return config.workers;
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus > 0 ? cpus : 1;
}

std::string join_errors(const std::vector<ConfigError>& errors) {
  std::string text;
  for (const auto& e : errors) {
    if (!text.empty()) text += "\n";
    text += e.to_string();
  }
  return text;
}

// A bind without SO_REUSEPORT fails if anybody, even another process that set SO_REUSEPORT, holds
// the port: the workers' own sockets could not tell us that.
std::string probe_port_free(const net::Address& address) {
  net::UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), address.data(), address.size()) != 0) {
    return "cannot bind " + address.to_string() + ": " + std::strerror(errno);
  }
  return {};
}

}  // namespace

struct Balancer::Impl {
  Config config;
  std::vector<std::unique_ptr<upstream::Pool>> pools;
  std::vector<std::unique_ptr<runtime::ListenerState>> listeners;
  std::vector<std::unique_ptr<runtime::Worker>> workers;
  std::unique_ptr<runtime::ControlPlane> control;
  std::atomic<bool> stop_requested{false};
  bool running = false;

  Status build_pools();
  Status bind_listeners(unsigned workers, std::vector<std::vector<net::UniqueFd>>& sockets);
};

Status Balancer::Impl::build_pools() {
  std::uint64_t next_id = 1;
  for (const auto& pool_config : config.pools) {
    std::shared_ptr<balance::StickyTable> sticky;
    if (pool_config.sticky && pool_config.sticky->cookie.empty()) {
      sticky = std::make_shared<balance::StickyTable>(pool_config.sticky->session_expiry);
    }
    auto pool = std::make_unique<upstream::Pool>(pool_config.name, sticky);
    auto snapshot = std::make_shared<upstream::PoolSnapshot>();
    snapshot->name = pool_config.name;
    snapshot->strategy = pool_config.strategy;
    snapshot->connect_timeout = pool_config.connect_timeout;
    snapshot->deactivate_for = pool_config.deactivate_for;
    snapshot->config = pool_config;
    const auto backends = static_cast<std::uint32_t>(pool_config.backends.size());
    snapshot->max_attempts = 1 + pool_config.retries.value_or(backends > 0 ? backends - 1 : 0);
    for (const auto& backend : pool_config.backends) {
      std::string error;
      auto address = net::Address::resolve(backend.address, &error);
      if (!address) return {"pool '" + pool_config.name + "': backend " + backend.address + ": " + error};
      snapshot->backends.push_back(
          std::make_shared<upstream::Backend>(next_id++, backend.address, *address, backend.weight));
    }
    pool->publish(std::move(snapshot));
    pools.push_back(std::move(pool));
  }
  return {};
}

Status Balancer::Impl::bind_listeners(unsigned worker_total, std::vector<std::vector<net::UniqueFd>>& sockets) {
  sockets.clear();
  sockets.resize(worker_total);
  for (const auto& listener_config : config.listeners) {
    auto state = std::make_unique<runtime::ListenerState>();
    state->config = listener_config;
    state->index = listeners.size();
    for (std::size_t i = 0; i < config.pools.size(); ++i) {
      if (config.pools[i].name == listener_config.pool) state->pool_index = i;
    }
    const std::string where = "listener '" + listener_config.name + "': ";
    std::string error;
    auto address = net::Address::resolve(listener_config.listen, &error);
    if (!address) return {where + error};
    if (address->port() != 0) {
      if (auto busy = probe_port_free(*address); !busy.empty()) return {where + busy};
    }
    for (unsigned w = 0; w < worker_total; ++w) {
      auto fd = net::bind_listener(*address, static_cast<int>(listener_config.backlog), &error);
      if (!fd) return {where + error};
      // Port 0: the first socket got a port from the kernel; the other workers join it there.
      if (w == 0) *address = net::Address::local_of(fd.get());
      sockets[w].push_back(std::move(fd));
    }
    state->bound = *address;
    if (listener_config.mode == ListenerMode::Http) {
      std::vector<std::string> pool_names;
      for (const auto& pool : config.pools) pool_names.push_back(pool.name);
      state->http = std::make_shared<http::HttpListenerShared>(listener_config, pool_names);
    }
    listeners.push_back(std::move(state));
  }
  return {};
}

Balancer::Balancer(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

Balancer::~Balancer() { stop(); }

Status Balancer::start() {
  auto& impl = *impl_;
  if (impl.running) return {"already running"};
  if (auto errors = validate_config(impl.config); !errors.empty()) return {join_errors(errors)};

  // splice(2) cannot take MSG_NOSIGNAL: a write to a peer that is gone must be an EPIPE, not a
  // process-wide SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  net::raise_fd_limit();

  impl.pools.clear();
  impl.listeners.clear();
  if (auto status = impl.build_pools(); !status.ok()) return status;
  const unsigned worker_total = worker_count(impl.config);
  std::vector<std::vector<net::UniqueFd>> sockets;
  if (auto status = impl.bind_listeners(worker_total, sockets); !status.ok()) {
    impl.listeners.clear();
    impl.pools.clear();
    return status;
  }

  std::vector<runtime::ListenerState*> listener_states;
  // HTTP buffers hold a whole head, plus room for what forwarding adds to it.
  std::size_t buffer_size = 16 * 1024;
  for (auto& state : impl.listeners) {
    listener_states.push_back(state.get());
    if (state->http) buffer_size = std::max<std::size_t>(buffer_size, state->config.max_header_size + 4096);
  }
  for (unsigned w = 0; w < worker_total; ++w) {
    impl.workers.push_back(
        std::make_unique<runtime::Worker>(w, listener_states, std::move(sockets[w]), impl.pools, buffer_size));
  }
  impl.control = std::make_unique<runtime::ControlPlane>(impl.pools);
  impl.control->start();
  for (auto& worker : impl.workers) worker->start();
  impl.running = true;
  impl.stop_requested = false;

  for (const auto& state : impl.listeners) {
    log::info("listening", {{"listener", state->config.name},
                            {"address", state->bound.to_string()},
                            {"mode", state->config.mode == ListenerMode::Tcp ? "tcp" : "http"},
                            {"pool", state->config.pool},
                            {"workers", worker_total}});
  }
  return {};
}

void Balancer::stop() {
  auto& impl = *impl_;
  if (!impl.running) return;
  impl.running = false;
  const auto deadline = core::Clock::now() + impl.config.drain_timeout;
  for (auto& worker : impl.workers) worker->drain(deadline);
  log::info("draining", {{"connections", active_connections()},
                         {"drain_timeout_ms", static_cast<std::int64_t>(impl.config.drain_timeout.count())}});
  for (auto& worker : impl.workers) worker->join();
  impl.workers.clear();
  if (impl.control) impl.control->stop();
  impl.control.reset();
  log::info("stopped");
}

void Balancer::request_stop() { impl_->stop_requested.store(true); }

int Balancer::run() {
  // Block the stop signals in every thread (workers inherit this mask) and take them here.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  if (auto status = start(); !status.ok()) {
    log::error("cannot start", {{"error", status.error}});
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return 1;
  }
  timespec poll_interval{0, 100'000'000};
  while (!impl_->stop_requested.load()) {
    siginfo_t info;
    const int signal_number = sigtimedwait(&stop_signals, &info, &poll_interval);
    if (signal_number > 0) {
      log::info("signal received, stopping", {{"signal", strsignal(signal_number)}});
      break;
    }
  }
  stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

std::vector<BoundListener> Balancer::listeners() const {
  std::vector<BoundListener> result;
  for (const auto& state : impl_->listeners) {
    result.push_back({state->config.name, state->bound.to_string(), state->bound.port()});
  }
  return result;
}

std::int64_t Balancer::active_connections() const {
  std::int64_t total = 0;
  for (const auto& state : impl_->listeners) total += state->active.load(std::memory_order_relaxed);
  return total;
}

const char* version() { return FULCRUM_VERSION; }

}  // namespace fulcrum
