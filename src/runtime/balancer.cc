// fulcrum::Balancer: builds the runtime from a Config (pools, listeners, workers, control thread)
// and runs it until stopped.
#include "fulcrum/balancer.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <thread>

#include <unistd.h>

#include "admin/admin_server.h"
#include "core/log.h"
#include "events/access_log.h"
#include "events/event_log.h"
#include "events/json_text.h"
#include "events/local_event_bus.h"
#include "http/http_context.h"
#include "net/socket.h"
#include "membership/state_file.h"
#include "process/upgrade_pid_file.h"
#include "runtime/balancer_impl.h"
#include "runtime/listener_settings.h"

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

// Balancer::Impl is in runtime/balancer_impl.h.

// A DNS server may be slow or down at start: the pools do not wait for it longer than this (a
// lookup without answer by then is retried from the control loop, its pool starting without it).
constexpr auto kStartResolveBudget = std::chrono::seconds(5);

Status Balancer::Impl::build_pools() {
  for (const auto& pool_config : config.pools) {
    pools.push_back(std::make_unique<upstream::Pool>(pool_config.name));
  }
  pool_manager = std::make_unique<membership::PoolManager>(pools, events.get());
  pool_manager->set_drain_timeout(std::chrono::duration_cast<core::Milliseconds>(config.drain_timeout));
  // Numeric addresses are backends as they are; host names are DNS's to follow.
  std::vector<std::vector<std::shared_ptr<upstream::Backend>>> backends(config.pools.size());
  for (std::size_t p = 0; p < config.pools.size(); ++p) {
    const PoolConfig& pool_config = config.pools[p];
    for (const auto& backend : pool_config.backends) {
      if (auto address = net::Address::parse_numeric(backend.address)) {
        backends[p].push_back(pool_manager->make_backend(backend.address, *address, backend.weight, backend.name));
        continue;
      }
      std::string error;
      auto parts = parse_host_port(backend.address, &error);
      if (!parts) return {"pool '" + pool_config.name + "': backend " + backend.address + ": " + error};
      if (!dns) {
        auto resolver = net::DnsResolver::create({.servers = config.resolver.servers}, &error);
        if (!resolver) return {"pool '" + pool_config.name + "': backend " + backend.address + ": " + error};
        dns = std::make_unique<membership::DnsSource>(*pool_manager, std::move(resolver), events.get());
      }
      dns->watch(p, backend, parts->host, parts->port, pool_config.resolve_interval);
    }
  }
  if (dns) dns->resolve_at_start(core::Clock::now() + kStartResolveBudget);
  for (std::size_t p = 0; p < config.pools.size(); ++p) {
    if (dns) {
      auto records = dns->initial_backends(p, backends[p]);
      backends[p].insert(backends[p].end(), records.begin(), records.end());
    }
    pool_manager->set_members(p, config.pools[p], std::move(backends[p]));
  }
  // Runtime changes saved by the last run (admin.state_file): an unreadable file stops the start,
  // rather than silently serving without the operator's drains and additions.
  const std::string state_file = config.admin ? config.admin->state_file : std::string();
  if (!state_file.empty()) {
    membership::LoadedState saved = membership::load_state_file(state_file);
    if (!saved.error.empty()) return {"admin.state_file: " + saved.error};
    membership::restore_state(saved.pools, config, *pool_manager);
    pool_manager->set_change_hook([this, state_file] {
      const std::string error = membership::save_state_file(state_file, membership::runtime_state(config, *pool_manager));
      if (!error.empty()) log::error("cannot save the runtime state", {{"error", error}});
    });
  }
  return {};
}

std::vector<std::string> Balancer::Impl::pool_names() const {
  // By index; a retired pool has no name for routes to find it by.
  std::vector<std::string> names;
  for (std::size_t i = 0; i < pools.size(); ++i) {
    names.push_back(pool_manager->retired(i) ? std::string() : pools[i]->name());
  }
  return names;
}

Status Balancer::Impl::open_listener(const ListenerConfig& listener_config, unsigned worker_total,
                                     OpenedListener& opened) {
  auto state = std::make_shared<net::ListenerState>();
  state->name = listener_config.name;
  state->mode = listener_config.mode;
  state->slot = counter_slots.next_listener++;
  const std::string where = "listener '" + listener_config.name + "': ";
  std::string error;
  auto address = net::Address::resolve(listener_config.listen, &error);
  if (!address) return {where + error};
  opened.sockets.clear();
  opened.extra.clear();
  // Handed over by the process this one replaces (binary upgrade): taken, never bound again
  // (privileges may be gone, and the same sockets keep the clients queued in them).
  if (auto handed = inherited.take_listener(listener_config.name, *address); !handed.empty()) {
    const std::size_t count = handed.size();
    for (unsigned w = 0; w < worker_total; ++w) {
      if (w < count) {
        opened.sockets.push_back(std::move(handed[w]));
        continue;
      }
      // More workers than sockets: share one (accept() on one socket from two loops is safe);
      // binding more could need the privileges this process may no longer have.
      net::UniqueFd shared(fcntl(opened.sockets[w % count].get(), F_DUPFD_CLOEXEC, 3));
      if (!shared) return {where + "cannot share a handed socket: " + std::strerror(errno)};
      opened.sockets.push_back(std::move(shared));
    }
    // Fewer workers than sockets: the extra ones are accepted on too, or the clients queued in
    // them would be reset when the old process lets go of them.
    for (std::size_t i = worker_total; i < count; ++i) opened.extra.push_back(std::move(handed[i]));
    *address = net::Address::local_of(opened.sockets.front().get());
    log::info("listening sockets taken over", {{"listener", listener_config.name},
                                               {"address", address->to_string()},
                                               {"sockets", static_cast<std::int64_t>(count)}});
  } else {
    if (address->port() != 0) {
      if (auto busy = probe_port_free(*address); !busy.empty()) return {where + busy};
    }
    for (unsigned w = 0; w < worker_total; ++w) {
      auto fd = net::bind_listener(*address, static_cast<int>(listener_config.backlog), &error);
      if (!fd) return {where + error};
      // Port 0: the first socket got a port from the kernel; the other workers join it there.
      if (w == 0) *address = net::Address::local_of(fd.get());
      opened.sockets.push_back(std::move(fd));
    }
  }
  state->bound = *address;
  state->settings = runtime::build_listener_settings(*state, listener_config, pool_names(), counter_slots);
  state->max_connections.store(listener_config.max_connections, std::memory_order_relaxed);
  opened.state = std::move(state);
  return {};
}

Status Balancer::Impl::bind_listeners(unsigned worker_total, std::vector<OpenedListener>& opened) {
  opened.clear();
  for (const auto& listener_config : config.listeners) {
    OpenedListener listener;
    if (auto status = open_listener(listener_config, worker_total, listener); !status.ok()) return status;
    listeners.push_back(listener.state);
    opened.push_back(std::move(listener));
  }
  return {};
}

Status Balancer::Impl::open_logs(unsigned worker_total) {
  std::string error;
  if (!config.events.file.empty()) {
    event_log = events::EventLog::open(config.events.file, config.events.per_request, *events, error);
    if (!event_log) return {error};
  }
  if (config.access_log) {
    access_log = events::AccessLog::open(*config.access_log, worker_total, error);
    if (!access_log) {
      event_log.reset();
      return {error};
    }
  }
  return {};
}

Status Balancer::Impl::start_failed(Status status) {
  events->emit(Event::Error, events::JsonObject().add("phase", "start").add("error", status.error).finish());
  events->deliver_pending();
  return status;
}

void Balancer::Impl::abandon_start() {
  listeners.clear();
  access_log.reset();
  event_log.reset();
  dns.reset();
  pool_manager.reset();
  pools.clear();
  if (pid_file) {
    pid_file->remove();
    pid_file.reset();
  }
}

void Balancer::Impl::reopen_logs() {
  if (access_log) access_log->request_reopen();
  // The event log belongs to the control thread, which writes it.
  if (event_log && control) control->loop().post([this] { event_log->reopen(); });
}

Balancer::Balancer(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->events = std::make_unique<events::LocalEventBus>(
      events::LocalEventBus::Options{.per_request_sample = impl_->config.events.per_request_sample});
}

Balancer::~Balancer() { stop(); }

Status Balancer::start() {
  auto& impl = *impl_;
  if (impl.running) return {"already running"};
  if (auto errors = validate_config(impl.config); !errors.empty()) {
    return impl.start_failed({join_errors(errors)});
  }
  impl.take_inheritance();
  if (impl.config.admin) {
    // Without a token the admin API may only listen on loopback: refuse before binding anything.
    if (auto error = admin::check_admin_config(*impl.config.admin); !error.empty()) return {error};
  }

  // splice(2) cannot take MSG_NOSIGNAL: a write to a peer that is gone must be an EPIPE, not a
  // process-wide SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  net::raise_fd_limit();

  impl.dns.reset();
  impl.pool_manager.reset();

  impl.pools.clear();
  impl.listeners.clear();
  if (auto status = impl.build_pools(); !status.ok()) {
    impl.abandon_start();
    return impl.start_failed(status);
  }
  const unsigned worker_total = worker_count(impl.config);
  std::vector<Impl::OpenedListener> opened;
  if (auto status = impl.bind_listeners(worker_total, opened); !status.ok()) {
    impl.abandon_start();
    return impl.start_failed(status);
  }
  if (auto status = impl.open_logs(worker_total); !status.ok()) {
    impl.abandon_start();
    return impl.start_failed(status);
  }

  net::UniqueFd admin_socket;
  impl.has_admin = false;
  if (impl.config.admin) {
    std::string error;
    error = admin::check_admin_config(*impl.config.admin);
    if (error.empty()) {
      admin_socket = impl.control_socket(process::SocketKind::Admin, impl.config.admin->listen, impl.admin_bound, error);
    }
    if (!admin_socket) {
      impl.abandon_start();
      return {error};
    }
    impl.has_admin = true;
  }
  net::UniqueFd registration_socket;
  impl.has_registration = false;
  if (impl.config.registration) {
    std::string error;
    registration_socket = impl.control_socket(process::SocketKind::Registration, impl.config.registration->listen,
                                              impl.registration_bound, error);
    if (!registration_socket) {
      impl.abandon_start();
      return {error};
    }
    impl.has_registration = true;
  }
  // Everything is bound: only now may the pid file name this process. Then root is given up,
  // before any thread accepts a connection.
  if (auto status = impl.write_pid_file(); !status.ok()) {
    impl.abandon_start();
    return impl.start_failed(status);
  }
  if (auto status = impl.drop_privileges(); !status.ok()) {
    impl.abandon_start();
    return impl.start_failed(status);
  }

  // HTTP buffers hold a whole head, plus room for what forwarding adds to it (a reload may not
  // raise max_header_size above what they were sized for).
  impl.buffer_size = 16 * 1024;
  for (const auto& listener : impl.config.listeners) {
    if (listener.mode == ListenerMode::Http) {
      impl.buffer_size = std::max<std::size_t>(impl.buffer_size, listener.max_header_size + kForwardingRoom);
    }
  }
  for (unsigned w = 0; w < worker_total; ++w) {
    auto worker = std::make_unique<runtime::Worker>(w, impl.pools, impl.buffer_size, *impl.events,
                                                    impl.access_log.get(), impl.config.io_uring, impl.hooks.get());
    for (auto& listener : opened) {
      worker->add_listener(listener.state, listener.state->settings, std::move(listener.sockets[w]));
      for (std::size_t i = w; i < listener.extra.size(); i += worker_total) {
        worker->add_accept_socket(*listener.state, std::move(listener.extra[i]));
      }
    }
    impl.workers.push_back(std::move(worker));
  }
  const bool batched = !impl.workers.empty() && impl.workers.front()->loop().send_batch();
  if (impl.config.io_uring && !batched) {
    log::warn("io_uring unavailable, sending directly",
              {{"hint", "kernel too old, kernel.io_uring_disabled set, or a seccomp filter"}});
  }
  log::info("sends", {{"via", batched ? "io_uring" : "sendmsg"}});
  // A backend that left its pool: every worker closes its idle connections to it.
  impl.pool_manager->set_retired_hook([&impl](const std::shared_ptr<upstream::Backend>& backend) {
    for (auto& worker : impl.workers) worker->retire_backend(backend->id());
  });
  impl.reload_state.reload_file = [this] { return reload_from(impl_->config_path); };
  impl.reload_state.generation.store(1, std::memory_order_relaxed);
  impl.drain_timeout_ms.store(impl.config.drain_timeout.count(), std::memory_order_relaxed);
  std::int64_t stop_ms = 0;
  for (const auto& pool : impl.config.pools) {
    if (pool.managed) stop_ms = std::max<std::int64_t>(stop_ms, pool.managed->stop.timeout.count());
  }
  impl.managed_stop_ms.store(stop_ms, std::memory_order_relaxed);
  impl.context.reset(new runtime::RuntimeContext{impl.config, impl.pools, *impl.pool_manager, impl.listeners,
                                                 impl.workers, *impl.events, &impl.reload_state});
  impl.context->control_counters = &impl.control_counters;
  impl.context->health_checks = &impl.health_checks;
  impl.context->event_queue = impl.events.get();
  impl.context->event_log = impl.event_log.get();
  impl.context->access_log = impl.access_log.get();
  impl.control = std::make_unique<runtime::ControlPlane>(*impl.context, *impl.events);
  impl.context->supervisor = &impl.control->supervisor();
  impl.context->rolls = &impl.control->rolls();
  impl.context->autoscaling = &impl.control->autoscaling();
  if (impl.event_log) impl.event_log->attach(impl.control->loop());
  if (admin_socket) impl.control->serve_admin(*impl.context, std::move(admin_socket));
  if (impl.dns) impl.control->follow_dns(std::move(impl.dns));
  if (registration_socket) impl.control->serve_registration(*impl.context, std::move(registration_socket));
  if (impl.config.cluster) impl.control->join_cluster(impl.has_admin ? impl.admin_bound.to_string() : std::string());
  // `start` is emitted before the control thread runs: a health verdict (which it emits) can then
  // never come before it, in the recent-events ring or on the stream.
  {
    std::string listeners = "[";
    for (const auto& state : impl.listeners) {
      if (listeners.size() > 1) listeners += ',';
      listeners += events::JsonObject()
                       .add("name", state->name)
                       .add("address", state->bound.to_string())
                       .add("mode", state->mode == ListenerMode::Tcp ? "tcp" : "http")
                       .add("pool", state->settings->config.pool)
                       .finish();
    }
    listeners += ']';
    events::JsonObject details;
    details.add_raw("listeners", listeners).add("workers", worker_total);
    if (impl.has_admin) details.add("admin", impl.admin_bound.to_string());
    if (impl.has_registration) details.add("registration", impl.registration_bound.to_string());
    impl.events->emit(Event::Start, details.finish());
  }
  impl.control->start();
  for (auto& worker : impl.workers) worker->start();
  if (impl.config.watchdog.count() > 0) {
    std::vector<runtime::Watchdog::Watched> loops;
    for (auto& worker : impl.workers) loops.push_back({"worker " + std::to_string(worker->index()), &worker->loop()});
    loops.push_back({"control", &impl.control->loop()});
    impl.watchdog = std::make_unique<runtime::Watchdog>(
        std::move(loops), std::chrono::duration_cast<std::chrono::milliseconds>(impl.config.watchdog), impl.events.get());
    impl.watchdog->start();
  }
  impl.running = true;
  impl.stop_requested = false;

  for (const auto& state : impl.listeners) {
    log::write_unlimited(log::Level::Info, "listening",
                         {{"listener", state->name},
                          {"address", state->bound.to_string()},
                          {"mode", state->mode == ListenerMode::Tcp ? "tcp" : "http"},
                          {"pool", state->settings->config.pool},
                          {"workers", worker_total}});
  }
  if (impl.has_admin) {
    log::write_unlimited(log::Level::Info, "listening",
                         {{"listener", "admin"}, {"address", impl.admin_bound.to_string()}, {"mode", "admin"}});
  }
  if (impl.has_registration) {
    log::write_unlimited(log::Level::Info, "listening",
                         {{"listener", "registration"},
                          {"address", impl.registration_bound.to_string()},
                          {"mode", "registration"}});
  }
  impl.finish_start();
  return {};
}

void Balancer::stop() {
  auto& impl = *impl_;
  if (!impl.running) return;
  impl.running = false;
  // Not impl.config: a reload on the control thread may be writing it right now.
  const Duration drain_timeout{impl.drain_timeout_ms.load(std::memory_order_relaxed)};
  const auto deadline = core::Clock::now() + drain_timeout;
  for (auto& worker : impl.workers) worker->drain(deadline);
  log::info("draining", {{"connections", active_connections()},
                         {"drain_timeout_ms", static_cast<std::int64_t>(drain_timeout.count())}});
  for (auto& worker : impl.workers) worker->join();
  impl.watchdog.reset();  // before the loops it watches go
  // The control thread reaches into the workers (the pool manager's retired hook, when a removed
  // backend leaves): detach it on that thread, and wait, before the workers are destroyed.
  if (impl.control && impl.pool_manager) {
    std::promise<void> detached;
    impl.control->loop().post([&] {
      impl.pool_manager->set_retired_hook(nullptr);
      detached.set_value();
    });
    detached.get_future().wait();
  }
  // The pools are drained: now their managed instances stop (stop signal, then SIGKILL after
  // stop.timeout), so that none outlives Fulcrum.
  if (impl.control) {
    impl.control->stop_instances(std::chrono::milliseconds(impl.managed_stop_ms.load(std::memory_order_relaxed)) +
                                 std::chrono::seconds(2));
  }
  impl.workers.clear();
  impl.access_log.reset();  // no worker logs any more: writes what is buffered
  impl.events->emit(Event::Stop, "{}");
  if (impl.control) impl.control->stop();  // delivers `stop`
  impl.event_log.reset();  // before the control loop its flush timer uses
  impl.control.reset();
  if (impl.pid_file) {
    if (auto error = impl.pid_file->remove(); !error.empty()) log::warn("cannot remove the pid file", {{"error", error}});
    impl.pid_file.reset();
  }
  log::info("stopped");
}

void Balancer::set_hooks(Hooks hooks) { impl_->hooks = std::make_unique<const Hooks>(std::move(hooks)); }

void Balancer::set_pid_file(std::string path) { impl_->pid_file_override = std::move(path); }

void Balancer::request_stop() { impl_->stop_requested.store(true); }

int Balancer::run() {
  // Block the stop signals in every thread (workers inherit this mask) and take them here.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);  // reopen the access and event logs (rotation)
  sigaddset(&stop_signals, SIGHUP);   // reload the configuration file
  sigaddset(&stop_signals, SIGUSR2);  // binary upgrade (balancer_upgrade.cc)
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  if (auto status = start(); !status.ok()) {
    log::error("cannot start", {{"error", status.error}});
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return 1;
  }
  impl_->notify_service_manager.store(true);
  impl_->notify_ready("MAINPID=" + std::to_string(::getpid()) + "\n");
  while (!impl_->stop_requested.load()) {
    // While a new binary starts, look at it often: this process stops accepting once it is ready.
    const bool upgrade_starting = impl_->upgrade_child && !impl_->upgraded;
    const timespec poll_interval{0, upgrade_starting ? 5'000'000 : 100'000'000};
    siginfo_t info;
    const int signal_number = sigtimedwait(&stop_signals, &info, &poll_interval);
    impl_->poll_upgrade();
    if (impl_->upgrade_drained()) {
      log::info("drained after the upgrade, exiting");
      break;
    }
    if (signal_number == SIGUSR2) {
      log::info("signal received, upgrading", {{"signal", strsignal(signal_number)}});
      impl_->request_upgrade(info.si_pid,
                             info.si_code == SI_QUEUE && info.si_value.sival_int == process::kUpgradeRequestValue);
      continue;
    }
    if (signal_number == SIGUSR1) {
      log::info("signal received, reopening logs", {{"signal", strsignal(signal_number)}});
      impl_->reopen_logs();
      continue;
    }
    if (signal_number == SIGHUP) {
      log::info("signal received, reloading", {{"signal", strsignal(signal_number)}, {"file", impl_->config_path}});
      reload_from(impl_->config_path);  // logs and reports its outcome
      continue;
    }
    if (signal_number > 0) {
      log::info("signal received, stopping", {{"signal", strsignal(signal_number)}});
      break;
    }
  }
  impl_->notify_from_control([] { return std::string("STOPPING=1\nSTATUS=stopping: draining connections"); });
  stop();
  impl_->notify_service_manager.store(false);
  // The new process is this one's child until this one exits: it lives on (adopted by init).
  impl_->upgrade_child.reset();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

std::vector<BoundListener> Balancer::listeners() const {
  std::vector<BoundListener> result;
  for (const auto& state : impl_->listeners) {
    result.push_back({state->name, state->bound.to_string(), state->bound.port()});
  }
  return result;
}

std::string Balancer::registration_address() const {
  std::lock_guard lock(impl_->bound_mutex);
  return impl_->has_registration ? impl_->registration_bound.to_string() : std::string();
}

std::string Balancer::admin_address() const {
  std::lock_guard lock(impl_->bound_mutex);
  return impl_->has_admin ? impl_->admin_bound.to_string() : std::string();
}

Balancer::SubscriptionId Balancer::on(Event event, EventCallback callback) {
  return impl_->events->subscribe(event, std::move(callback));
}

void Balancer::off(SubscriptionId id) { impl_->events->unsubscribe(id); }

std::int64_t Balancer::active_connections() const {
  std::int64_t total = 0;
  for (const auto& state : impl_->listeners) total += state->active.load(std::memory_order_relaxed);
  return total;
}

const char* version() { return FULCRUM_VERSION; }

}  // namespace fulcrum
