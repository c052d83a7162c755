#include "managed/supervisor.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "config/yaml_managed.h"
#include "core/log.h"
#include "events/json_text.h"
#include "health/probe.h"
#include "managed/backoff.h"
#include "managed/command_line.h"
#include "managed/notify_socket.h"
#include "managed/output_pipe.h"
#include "managed/spawn.h"

extern char** environ;

namespace fulcrum::managed {

namespace {

/// A tcp or http ready check is tried this often until it passes or the ready timeout ends.
constexpr auto kProbeEvery = std::chrono::milliseconds(100);
/// Each try may take this long.
constexpr auto kProbeTimeout = std::chrono::seconds(1);
/// How often a stopping instance's drain is looked at.
constexpr auto kDrainPoll = std::chrono::milliseconds(50);

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + config::signal_name(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

std::string_view instance_state_name(InstanceState state) {
  switch (state) {
    case InstanceState::Starting: return "starting";
    case InstanceState::Ready: return "ready";
    case InstanceState::Backoff: return "backoff";
    case InstanceState::Crashloop: return "crashloop";
    case InstanceState::Stopping: return "stopping";
  }
  return "unknown";
}

struct Supervisor::ManagedPool {
  std::size_t index = 0;
  std::string name;
  ManagedConfig config;
  /// unmanage()d: kept while instances of it still stop, but none starts.
  bool retired = false;
};

/// One instance: its process while one runs, its timers, and the handlers of its pidfd, its
/// output and its notify socket. Control thread.
struct Supervisor::Instance final : core::IoHandler {
  Instance(Supervisor& o, std::uint64_t i)
      : owner(o),
        id(i),
        ready_timer([this] { owner.probe_ready(*this); }),
        deadline_timer([this] { owner.ready_timed_out(*this); }),
        restart_timer([this] { owner.restart(*this); }),
        kill_timer([this] { owner.kill_now(*this); }),
        reset_timer([this] { owner.ran_well(*this); }),
        drain_timer([this] { owner.drained_or_wait(*this); }) {}
  ~Instance() {
    if (pidfd) owner.loop_.remove(pidfd.get());
  }

  void on_io(std::uint32_t) override { owner.reap(*this); }

  Supervisor& owner;
  std::uint64_t id;
  std::size_t pool = 0;
  unsigned index = 0;
  std::string name;
  InstanceState state = InstanceState::Starting;
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::uint64_t backend_id = 0;
  /// The backend it had, while a stop waits for it to drain.
  std::uint64_t draining_id = 0;
  std::uint32_t restarts = 0;
  std::uint32_t failures = 0;
  std::string last_exit;
  Duration restart_delay{0};
  core::TimePoint started{};
  bool stop_asked = false;
  bool timed_out = false;
  /// Its backoff reached the cap and it has not run well since (the `crashloop` event is sent
  /// once, when this begins).
  bool looping = false;
  net::UniqueFd pidfd;
  std::unique_ptr<OutputPipe> output;
  std::unique_ptr<NotifySocket> notify;
  std::unique_ptr<health::Probe> probe;
  core::Timer ready_timer;
  core::Timer deadline_timer;
  core::Timer restart_timer;
  core::Timer kill_timer;
  core::Timer reset_timer;
  core::Timer drain_timer;
};

Supervisor::Supervisor(core::EventLoop& loop, membership::PoolManager& manager, events::EventBus* events)
    : loop_(loop), manager_(manager), events_(events) {}

Supervisor::~Supervisor() {
  // The sweep: whatever still runs goes now, with its whole process group, and is reaped.
  for (auto& instance : instances_) {
    if (instance->pid <= 0) continue;
    ::kill(-instance->pid, SIGKILL);
    ::kill(instance->pid, SIGKILL);
    ::waitpid(instance->pid, nullptr, 0);
    instance->pid = -1;
  }
  for (auto& instance : instances_) cancel_timers(*instance);
  instances_.clear();
}

void Supervisor::cancel_timers(Instance& instance) {
  for (core::Timer* timer : {&instance.ready_timer, &instance.deadline_timer, &instance.restart_timer,
                             &instance.kill_timer, &instance.reset_timer, &instance.drain_timer}) {
    if (timer->armed()) loop_.timers().cancel(*timer);
  }
}

void Supervisor::manage(std::size_t pool, const PoolConfig& config) {
  if (manages(pool)) return;
  auto managed = std::make_unique<ManagedPool>();
  managed->index = pool;
  managed->name = config.name;
  managed->config = *config.managed;
  const std::uint32_t count = managed->config.instances.min;
  pools_[pool] = std::move(managed);
  for (std::uint32_t i = 0; i < count; ++i) start_instance(pool);
}

void Supervisor::unmanage(std::size_t pool) {
  const auto found = pools_.find(pool);
  if (found == pools_.end() || found->second->retired) return;
  found->second->retired = true;
  std::vector<std::uint64_t> ids;
  for (const auto& instance : instances_) {
    if (instance->pool == pool) ids.push_back(instance->id);
  }
  for (std::uint64_t id : ids) stop_instance(id);
}

bool Supervisor::manages(std::size_t pool) const {
  const auto found = pools_.find(pool);
  return found != pools_.end() && !found->second->retired;
}

const ManagedConfig* Supervisor::config(std::size_t pool) const {
  const auto found = pools_.find(pool);
  return found == pools_.end() || found->second->retired ? nullptr : &found->second->config;
}

std::optional<std::uint64_t> Supervisor::start_instance(std::size_t pool) {
  const auto found = pools_.find(pool);
  if (found == pools_.end() || found->second->retired || stopping_all_) return std::nullopt;
  std::set<unsigned> taken;
  for (const auto& other : instances_) {
    if (other->pool == pool) taken.insert(other->index);
  }
  unsigned index = 0;
  while (taken.count(index) != 0) ++index;
  auto instance = std::make_unique<Instance>(*this, next_id_++);
  instance->pool = pool;
  instance->index = index;
  instance->name = found->second->name + "-" + std::to_string(index);
  Instance& raw = *instance;
  instances_.push_back(std::move(instance));
  spawn(raw);
  return raw.id;
}

std::optional<std::uint16_t> Supervisor::pick_port(const ManagedPool& pool, std::uint16_t preferred) const {
  std::set<std::uint16_t> used;
  for (const auto& other : instances_) {
    if (other->port != 0 && other->pid > 0) used.insert(other->port);
  }
  const auto bindable = [](std::uint16_t port) {
    net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return false;
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  };
  // The port it had, if still free: a restarted instance keeps its address.
  if (preferred != 0 && used.count(preferred) == 0 && bindable(preferred)) return preferred;
  for (std::uint32_t port = pool.config.port_min; port <= pool.config.port_max; ++port) {
    const auto candidate = static_cast<std::uint16_t>(port);
    if (used.count(candidate) == 0 && bindable(candidate)) return candidate;
  }
  return std::nullopt;
}

void Supervisor::spawn(Instance& instance) {
  const ManagedPool& pool = *pools_.at(instance.pool);
  const ManagedConfig& config = pool.config;
  instance.timed_out = false;
  const auto port = pick_port(pool, instance.port);
  if (!port) {
    exited(instance, "no free port in " + std::to_string(config.port_min) + "-" + std::to_string(config.port_max));
    return;
  }
  instance.port = *port;
  SpawnRequest request;
  const InstanceWords words{instance.port, instance.index, pool.name};
  for (const auto& word : config.command) request.argv.push_back(substitute(word, words));
  request.cwd = config.cwd;
  net::UniqueFd log_file;
  if (config.log_dir.empty()) {
    // The previous process's pipe may still hold lines: it goes at the end of this turn.
    if (instance.output) loop_.defer([old = std::shared_ptr<OutputPipe>(std::move(instance.output))] {});
    instance.output = std::make_unique<OutputPipe>(loop_, pool.name, instance.name);
    if (!instance.output->ok()) {
      exited(instance, "cannot make its output pipe: " + instance.output->error());
      return;
    }
    request.output_fd = instance.output->write_fd();
  } else {
    const std::string path = config.log_dir + "/" + instance.name + ".log";
    log_file.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!log_file) {
      exited(instance, "cannot open " + path + ": " + std::strerror(errno));
      return;
    }
    request.output_fd = log_file.get();
  }
  std::string notify_name;
  if (config.ready.kind == ManagedReadyConfig::Kind::Notify) {
    if (instance.notify) loop_.defer([old = std::shared_ptr<NotifySocket>(std::move(instance.notify))] {});
    Instance* raw = &instance;
    instance.notify = std::make_unique<NotifySocket>(loop_, instance.id, [this, raw] {
      if (raw->state == InstanceState::Starting && raw->pid > 0) mark_ready(*raw);
    });
    if (!instance.notify->ok()) {
      exited(instance, "cannot make its notify socket: " + instance.notify->error());
      return;
    }
    notify_name = instance.notify->name();
  }
  std::vector<std::string> inherited;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) inherited.emplace_back(*entry);
  request.env = instance_environment(inherited, config, notify_name);

  SpawnedProcess process;
  std::string error;
  if (!spawn_process(request, process, error)) {
    exited(instance, error);
    return;
  }
  if (instance.output) instance.output->close_write_end();
  instance.pid = process.pid;
  instance.pidfd = std::move(process.pidfd);
  instance.started = loop_.now();
  instance.state = InstanceState::Starting;
  if (instance.notify) instance.notify->accept_group(process.pid);
  loop_.add(instance.pidfd.get(), EPOLLIN, &instance);
  loop_.timers().schedule(instance.deadline_timer, loop_.now() + config.ready.timeout);
  if (config.ready.kind != ManagedReadyConfig::Kind::Notify) {
    loop_.timers().schedule(instance.ready_timer, loop_.now() + std::chrono::milliseconds(20));
  }
  log::info("instance started", {{"pool", pool.name},
                                 {"instance", instance.name},
                                 {"pid", static_cast<std::int64_t>(instance.pid)},
                                 {"port", static_cast<unsigned>(instance.port)}});
  emit(Event::InstanceStarted, instance, events::JsonObject().add("command", request.argv[0]).finish());
  changed(instance);
}

void Supervisor::probe_ready(Instance& instance) {
  if (instance.state != InstanceState::Starting || instance.pid <= 0 || instance.probe) return;
  const ManagedConfig& config = pools_.at(instance.pool)->config;
  HealthCheckConfig check;
  check.kind = config.ready.kind == ManagedReadyConfig::Kind::Http ? HealthCheckConfig::Kind::Http
                                                                   : HealthCheckConfig::Kind::Tcp;
  check.http_path = config.ready.http_path;
  check.timeout = kProbeTimeout;
  auto address = net::Address::parse_numeric("127.0.0.1:" + std::to_string(instance.port));
  Instance* raw = &instance;
  const std::uint64_t id = instance.id;
  instance.probe = std::make_unique<health::Probe>(
      loop_, check, *address, "127.0.0.1:" + std::to_string(instance.port),
      [this, raw, id](const health::ProbeResult& result) {
        // The probe is destroyed after this turn (its fd's events may still be pending).
        loop_.defer([probe = std::shared_ptr<health::Probe>(std::move(raw->probe))] {});
        if (find(id) != raw || raw->state != InstanceState::Starting || raw->pid <= 0) return;
        if (result.passed) {
          mark_ready(*raw);
        } else {
          loop_.timers().schedule(raw->ready_timer, loop_.now() + kProbeEvery);
        }
      });
  instance.probe->run();
}

void Supervisor::ready_timed_out(Instance& instance) {
  if (instance.state != InstanceState::Starting || instance.pid <= 0) return;
  const ManagedConfig& config = pools_.at(instance.pool)->config;
  log::warn("instance not ready in time, killing it", {{"pool", pools_.at(instance.pool)->name},
                                                       {"instance", instance.name},
                                                       {"ready_timeout_ms", static_cast<std::int64_t>(config.ready.timeout.count())}});
  instance.timed_out = true;
  ::kill(-instance.pid, SIGKILL);
}

void Supervisor::mark_ready(Instance& instance) {
  const ManagedPool& pool = *pools_.at(instance.pool);
  loop_.timers().cancel(instance.ready_timer);
  loop_.timers().cancel(instance.deadline_timer);
  instance.state = InstanceState::Ready;
  const std::string address_text = "127.0.0.1:" + std::to_string(instance.port);
  const auto address = net::Address::parse_numeric(address_text);
  auto backend = manager_.make_backend(address_text, *address, 1, instance.name, upstream::BackendSource::Managed);
  // Its ready check passed: it serves at once (the pool's health checks then apply to it as to a
  // member at start), rather than waiting a health interval as `joining`.
  const auto result = manager_.add_member(pool.index, backend, /*ready=*/true);
  if (result.ok()) {
    instance.backend_id = backend->id();
  } else {
    log::error("managed instance cannot join its pool",
               {{"pool", pool.name}, {"instance", instance.name}, {"error", result.error}});
  }
  const auto ready_after = std::chrono::duration_cast<std::chrono::milliseconds>(loop_.now() - instance.started);
  log::info("instance ready", {{"pool", pool.name},
                               {"instance", instance.name},
                               {"pid", static_cast<std::int64_t>(instance.pid)},
                               {"ready_ms", static_cast<std::int64_t>(ready_after.count())}});
  emit(Event::InstanceReady, instance,
       events::JsonObject().add("ready_ms", static_cast<std::int64_t>(ready_after.count())).finish());
  loop_.timers().schedule(instance.reset_timer, loop_.now() + pool.config.restart.reset_after);
  changed(instance);
}

void Supervisor::ran_well(Instance& instance) {
  if (instance.state != InstanceState::Ready) return;
  instance.failures = 0;
  instance.looping = false;
  changed(instance);
}

void Supervisor::leave_pool(Instance& instance) {
  if (instance.backend_id == 0) return;
  manager_.remove_backend_id(instance.pool, instance.backend_id);
  instance.draining_id = instance.backend_id;
  instance.backend_id = 0;
}

void Supervisor::reap(Instance& instance) {
  if (instance.pid <= 0) return;
  int status = 0;
  const pid_t got = ::waitpid(instance.pid, &status, WNOHANG);
  if (got == 0) return;  // not yet (a spurious wake-up)
  const pid_t pid = instance.pid;
  // Whatever the instance started in its group goes with it: it would hold its port.
  ::kill(-pid, SIGKILL);
  loop_.remove(instance.pidfd.get());
  instance.pidfd.reset();
  instance.pid = -1;
  const std::string how = got < 0 ? std::string("gone (") + std::strerror(errno) + ")" : describe_status(status);
  const bool expected = instance.stop_asked;
  events::JsonObject details;
  details.add("pid", static_cast<std::int64_t>(pid));
  if (got > 0 && WIFEXITED(status)) details.add("status", WEXITSTATUS(status));
  if (got > 0 && WIFSIGNALED(status)) details.add("signal", config::signal_name(WTERMSIG(status)));
  details.add_raw("expected", expected ? "true" : "false");
  if (instance.timed_out) details.add("reason", "not ready within ready.timeout");
  const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(loop_.now() - instance.started);
  details.add("uptime_ms", static_cast<std::int64_t>(uptime.count()));
  (expected ? log::info : log::warn)("instance exited", {{"pool", pools_.at(instance.pool)->name},
                                                         {"instance", instance.name},
                                                         {"pid", static_cast<std::int64_t>(pid)},
                                                         {"how", how}});
  instance.last_exit = instance.timed_out ? how + " (not ready in time)" : how;
  emit(Event::InstanceExited, instance, details.finish());
  if (expected || stopping_all_) {
    forget(instance.id);
    return;
  }
  exited(instance, "");
}

void Supervisor::exited(Instance& instance, const std::string& error) {
  const ManagedPool& pool = *pools_.at(instance.pool);
  if (!error.empty()) {
    log::error("cannot start instance", {{"pool", pool.name}, {"instance", instance.name}, {"error", error}});
    instance.last_exit = error;
  }
  // Leaves its pool at once: its in-flight requests fail over as for any backend that fails.
  leave_pool(instance);
  instance.draining_id = 0;
  for (core::Timer* timer : {&instance.ready_timer, &instance.deadline_timer, &instance.reset_timer}) {
    if (timer->armed()) loop_.timers().cancel(*timer);
  }
  // A ready check still under way was about the process that is gone: its verdict must not count
  // for the next one.
  if (instance.probe) loop_.defer([probe = std::shared_ptr<health::Probe>(std::move(instance.probe))] {});
  if (stopping_all_ || instance.stop_asked) {
    forget(instance.id);
    return;
  }
  ++instance.failures;
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  instance.restart_delay = restart_delay(pool.config.restart, instance.failures, jitter(random_));
  const bool looping = crash_looping(pool.config.restart, instance.failures);
  instance.state = looping ? InstanceState::Crashloop : InstanceState::Backoff;
  log::info("instance restarting", {{"pool", pool.name},
                                    {"instance", instance.name},
                                    {"delay_ms", static_cast<std::int64_t>(instance.restart_delay.count())},
                                    {"failures", static_cast<unsigned>(instance.failures)}});
  emit(Event::InstanceRestarting, instance,
       events::JsonObject()
           .add("delay_ms", static_cast<std::int64_t>(instance.restart_delay.count()))
           .add("failures", static_cast<unsigned>(instance.failures))
           .finish());
  if (looping && !instance.looping) {
    log::warn("instance crash-looping", {{"pool", pool.name},
                                         {"instance", instance.name},
                                         {"failures", static_cast<unsigned>(instance.failures)},
                                         {"last_exit", instance.last_exit}});
    emit(Event::Crashloop, instance,
         events::JsonObject()
             .add("failures", static_cast<unsigned>(instance.failures))
             .add("delay_ms", static_cast<std::int64_t>(instance.restart_delay.count()))
             .add("last_exit", instance.last_exit)
             .finish());
  }
  instance.looping = looping;
  loop_.timers().schedule(instance.restart_timer, loop_.now() + instance.restart_delay);
  changed(instance);
}

void Supervisor::restart(Instance& instance) {
  if (stopping_all_ || instance.stop_asked || instance.pid > 0) return;
  ++instance.restarts;
  spawn(instance);
}

bool Supervisor::stop_instance(std::uint64_t id) {
  Instance* instance = find(id);
  if (instance == nullptr) return false;
  if (instance->stop_asked) return true;
  instance->stop_asked = true;
  if (instance->restart_timer.armed()) loop_.timers().cancel(instance->restart_timer);
  if (instance->pid <= 0) {  // waiting to restart: nothing runs
    forget(id);
    return true;
  }
  instance->state = InstanceState::Stopping;
  leave_pool(*instance);
  changed(*instance);
  drained_or_wait(*instance);
  return true;
}

void Supervisor::drained_or_wait(Instance& instance) {
  if (instance.pid <= 0) return;
  if (instance.draining_id != 0 && !stopping_all_ && manager_.member(instance.pool, instance.draining_id)) {
    loop_.timers().schedule(instance.drain_timer, loop_.now() + kDrainPoll);
    return;
  }
  instance.draining_id = 0;
  signal_stop(instance);
}

void Supervisor::signal_stop(Instance& instance) {
  if (instance.pid <= 0 || instance.kill_timer.armed()) return;
  const ManagedConfig& config = pools_.at(instance.pool)->config;
  ::kill(-instance.pid, config.stop.signal);
  loop_.timers().schedule(instance.kill_timer, loop_.now() + config.stop.timeout);
}

void Supervisor::kill_now(Instance& instance) {
  if (instance.pid <= 0) return;
  log::warn("instance did not stop in time, killing it",
            {{"pool", pools_.at(instance.pool)->name}, {"instance", instance.name}});
  ::kill(-instance.pid, SIGKILL);
}

void Supervisor::stop_all(std::function<void()> done) {
  stopping_all_ = true;
  all_stopped_ = std::move(done);
  std::vector<std::uint64_t> ids;
  for (const auto& instance : instances_) ids.push_back(instance->id);
  for (std::uint64_t id : ids) {
    Instance* instance = find(id);
    if (instance == nullptr) continue;
    instance->stop_asked = true;
    if (instance->restart_timer.armed()) loop_.timers().cancel(instance->restart_timer);
    if (instance->pid <= 0) {
      forget(id);
      continue;
    }
    instance->state = InstanceState::Stopping;
    leave_pool(*instance);
    instance->draining_id = 0;
    signal_stop(*instance);
  }
  check_all_stopped();
}

void Supervisor::forget(std::uint64_t id) {
  const auto it = std::find_if(instances_.begin(), instances_.end(), [id](const auto& held) { return held->id == id; });
  if (it == instances_.end()) return;
  std::shared_ptr<Instance> gone(std::move(*it));
  instances_.erase(it);
  cancel_timers(*gone);
  changed(*gone, true);
  // Its handlers may still have events fetched in this turn: destroyed at its end.
  loop_.defer([gone] {});
  check_all_stopped();
}

void Supervisor::check_all_stopped() {
  if (!stopping_all_ || !all_stopped_) return;
  for (const auto& instance : instances_) {
    if (instance->pid > 0) return;
  }
  auto done = std::move(all_stopped_);
  all_stopped_ = nullptr;
  done();
}

Supervisor::Instance* Supervisor::find(std::uint64_t id) {
  for (auto& instance : instances_) {
    if (instance->id == id) return instance.get();
  }
  return nullptr;
}

InstanceView Supervisor::view(const Instance& instance) const {
  InstanceView out;
  out.id = instance.id;
  out.pool = instance.pool;
  out.pool_name = pools_.at(instance.pool)->name;
  out.index = instance.index;
  out.name = instance.name;
  out.state = instance.state;
  out.pid = instance.pid;
  out.port = instance.port;
  out.backend_id = instance.backend_id;
  out.restarts = instance.restarts;
  out.failures = instance.failures;
  out.crashloop = instance.looping;
  out.last_exit = instance.last_exit;
  out.restart_delay = instance.restart_delay;
  if (instance.pid > 0) {
    out.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(loop_.now() - instance.started).count();
  }
  return out;
}

std::vector<InstanceView> Supervisor::instances(std::size_t pool) const {
  std::vector<InstanceView> out;
  for (const auto& instance : instances_) {
    if (instance->pool == pool) out.push_back(view(*instance));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return out;
}

std::vector<InstanceView> Supervisor::instances() const {
  std::vector<InstanceView> out;
  for (const auto& instance : instances_) out.push_back(view(*instance));
  return out;
}

std::optional<InstanceView> Supervisor::instance(std::uint64_t id) const {
  for (const auto& instance : instances_) {
    if (instance->id == id) return view(*instance);
  }
  return std::nullopt;
}

void Supervisor::changed(const Instance& instance, bool gone) {
  if (listeners_.empty()) return;
  const InstanceView snapshot = view(instance);
  for (const auto& listener : listeners_) listener(snapshot, gone);
}

void Supervisor::emit(Event event, const Instance& instance, std::string extra) {
  if (events_ == nullptr) return;
  events::JsonObject details;
  details.add("pool", pools_.at(instance.pool)->name).add("instance", instance.name).add("index", instance.index);
  if (instance.pid > 0) details.add("pid", static_cast<std::int64_t>(instance.pid));
  if (instance.port != 0) details.add("port", static_cast<unsigned>(instance.port));
  std::string text = details.finish();
  // Merge `extra` (an object text) into the details.
  if (extra.size() > 2) {
    text.pop_back();
    text += "," + extra.substr(1);
  }
  events_->emit(event, text);
}

}  // namespace fulcrum::managed
