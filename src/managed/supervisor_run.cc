// One managed instance's run: its process started (spawn()), its readiness (a tcp/http probe
// every 100 ms, or READY=1 on its notify socket) until it joins the pool, its exit reaped and
// reported, and its restart after the backoff. The rest of the supervisor is supervisor.cc.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/yaml_managed.h"
#include "core/log.h"
#include "events/json_text.h"
#include "managed/backoff.h"
#include "managed/command_line.h"
#include "managed/spawn.h"
#include "managed/supervisor_state.h"

extern char** environ;

namespace fulcrum::managed {

namespace {

/// A tcp or http ready check is tried this often until it passes or the ready timeout ends.
constexpr auto kProbeEvery = std::chrono::milliseconds(100);
/// Each try may take this long.
constexpr auto kProbeTimeout = std::chrono::seconds(1);

/// `exit status 3`, `signal SIGKILL`.
std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + config::signal_name(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

void Supervisor::cancel_timers(Instance& instance) {
  for (core::Timer* timer : {&instance.ready_timer, &instance.deadline_timer, &instance.restart_timer,
                             &instance.kill_timer, &instance.reset_timer, &instance.drain_timer}) {
    if (timer->armed()) loop_.timers().cancel(*timer);
  }
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

}  // namespace fulcrum::managed
