// fulcrum::Balancer's side of a binary upgrade (docs/upgrade.md): SIGUSR2 starts the new process
// with every listening socket; once it is ready, this one stops accepting, drains and run()
// returns 0. Started by an upgrade, start() takes the handed sockets and says when it is ready.
// Controlling thread only (the one in run()).
#include <signal.h>
#include <unistd.h>

#include <utility>

#include "admin/admin_server.h"
#include "core/log.h"
#include "events/json_text.h"
#include "process/upgrade_pid_file.h"
#include "runtime/balancer_impl.h"

namespace fulcrum {

namespace {

/// Tells `fulcrum upgrade` (pid `requester`) the outcome; nobody to tell when it is -1.
void answer(pid_t requester, int value) {
  if (requester <= 0) return;
  sigval payload{};
  payload.sival_int = value;
  sigqueue(requester, SIGUSR2, payload);
}

}  // namespace

void Balancer::enable_upgrade(UpgradeOptions options) { impl_->upgrade_options = std::move(options); }

void Balancer::Impl::take_inheritance() {
  std::vector<std::string> warnings;
  inherited = process::InheritedSockets::from_environment(warnings);
  for (const auto& warning : warnings) log::warn("inherited sockets", {{"problem", warning}});
  upgrade_parent = process::UpgradeParent::from_environment();
}

net::UniqueFd Balancer::Impl::control_socket(process::SocketKind kind, const std::string& listen, net::Address& bound,
                                             std::string& error) {
  if (auto address = net::Address::resolve(listen)) {
    if (auto handed = inherited.take_single(kind, *address)) {
      bound = net::Address::local_of(handed.get());
      return handed;
    }
  }
  return admin::bind_control_socket(kind == process::SocketKind::Admin ? "admin" : "registration", listen, bound,
                                    error);
}

void Balancer::Impl::finish_start() {
  if (const auto unused = inherited.close_unused(); unused > 0) {
    log::info("handed sockets not used, closed", {{"sockets", static_cast<std::int64_t>(unused)}});
  }
  if (upgrade_parent) {
    // The old process stops accepting when it reads this: every socket here is watched already.
    upgrade_parent->notify_ready();
    log::info("ready: the old process drains", {{"old_pid", static_cast<std::int64_t>(upgrade_parent->parent_pid())}});
  }
}

void Balancer::Impl::upgrade_failed(const std::string& reason, bool refused, pid_t requester) {
  log::error(refused ? "upgrade refused" : "upgrade failed, still serving", {{"reason", reason}});
  events->emit(Event::UpgradeFailed,
               events::JsonObject().add("reason", reason).add_raw("refused", refused ? "true" : "false").finish());
  answer(requester, refused ? process::kUpgradeAnswerRefused : process::kUpgradeAnswerFailed);
}

void Balancer::Impl::request_upgrade(pid_t sender, bool queued) {
  const pid_t requester = queued ? sender : -1;
  if (!upgrade_options) {
    upgrade_failed("binary upgrade is not enabled in this program", true, requester);
    return;
  }
  if (upgraded) {
    upgrade_failed("this process is draining after an upgrade to pid " + std::to_string(upgrade_child->pid()) +
                       ": upgrade that one once this one has exited",
                   true, requester);
    return;
  }
  if (upgrade_child) {
    upgrade_failed("an upgrade is in progress (new process pid " + std::to_string(upgrade_child->pid()) + ")", true,
                   requester);
    return;
  }
  if (upgrade_parent && upgrade_parent->draining()) {
    upgrade_failed("the process this one replaced (pid " + std::to_string(upgrade_parent->parent_pid()) +
                       ") is still draining: at most one old process at a time",
                   true, requester);
    return;
  }

  // Copies of every listening socket, as they are now (a reload may have added or removed some).
  process::UpgradeSpawn spawn;
  spawn.program = upgrade_options->program;
  spawn.arguments = upgrade_options->arguments;
  spawn.ready_timeout = upgrade_options->ready_timeout;
  std::vector<net::UniqueFd> copies;  // closed once the child has its own
  for (auto& worker : workers) {
    for (auto& [name, fd] : worker->copy_listening_sockets()) {
      spawn.sockets.push_back({process::SocketKind::Listener, name, worker->index(), fd.get()});
      copies.push_back(std::move(fd));
    }
  }
  if (control) {
    for (auto& [kind, fd] : control->copy_listening_sockets()) {
      spawn.sockets.push_back({kind, std::string(), 0, fd.get()});
      copies.push_back(std::move(fd));
    }
  }
  std::string error;
  upgrade_child = process::ChildUpgrade::spawn(spawn, error);
  if (!upgrade_child) {
    upgrade_failed(error, false, requester);
    return;
  }
  upgrade_requester = requester;
  log::info("upgrading: new process started", {{"pid", static_cast<std::int64_t>(upgrade_child->pid())},
                                               {"program", spawn.program.empty() ? "/proc/self/exe" : spawn.program},
                                               {"sockets", static_cast<std::int64_t>(spawn.sockets.size())}});
}

void Balancer::Impl::poll_upgrade() {
  if (!upgrade_child) return;
  if (upgraded) {
    int status = 0;
    if (upgrade_child->reap_if_exited(&status)) {
      log::warn("the new process exited while this one drains", {{"pid", static_cast<std::int64_t>(upgrade_child->pid())},
                                                                  {"status", status}});
    }
    return;
  }
  switch (upgrade_child->poll()) {
    case process::ChildUpgrade::State::Starting:
      return;
    case process::ChildUpgrade::State::Failed:
      upgrade_failed(upgrade_child->reason(), false, std::exchange(upgrade_requester, -1));
      upgrade_child.reset();
      return;
    case process::ChildUpgrade::State::Ready:
      break;
  }
  const pid_t new_pid = upgrade_child->pid();
  upgraded = true;
  // The new process is the service manager's main process from its READY=1 (with its MAINPID) on:
  // this one drains without a word to it (a STOPPING=1 from here would stop the service).
  notify_service_manager.store(false);
  handed_over.store(true, std::memory_order_release);
  if (pid_file) {
    // PIDFILE.oldbin names this process (its PidFile follows the file there, and removes it at
    // exit); PIDFILE the new one, which takes it over (write_pid_file()).
    const std::string path = pid_file->path();
    std::string error = pid_file->move_to(process::oldbin_path(path));
    if (error.empty()) error = process::write_pid(path, new_pid);
    if (!error.empty()) log::warn("cannot update the pid file", {{"error", error}});
  }
  const Duration drain_timeout{drain_timeout_ms.load(std::memory_order_relaxed)};
  log::info("upgraded: the new process serves, this one drains",
            {{"pid", static_cast<std::int64_t>(new_pid)},
             {"old_pid", static_cast<std::int64_t>(getpid())},
             {"drain_timeout_ms", static_cast<std::int64_t>(drain_timeout.count())}});
  events->emit(Event::Upgrade, events::JsonObject()
                                   .add("pid", static_cast<std::int64_t>(new_pid))
                                   .add("old_pid", static_cast<std::int64_t>(getpid()))
                                   .finish());
  answer(std::exchange(upgrade_requester, -1), static_cast<int>(new_pid));
  // Stop accepting: the new process accepts from the same sockets, what waits in their queues
  // included. Connections open here finish; an idle keep-alive one closes after its next response
  // or at the deadline, never while its client may be writing a request.
  const auto deadline = core::Clock::now() + drain_timeout;
  if (control) {
    control->stop_accepting();
    // admin.state_file is the new process's now: a change here (a lease expiring unrenewed, its
    // renewals going to the new process) must not overwrite what the new one saves.
    if (pool_manager) control->loop().post([this] { pool_manager->set_change_hook(nullptr); });
  }
  for (auto& worker : workers) worker->drain(deadline, runtime::Worker::DrainMode::KeepIdle);
}

bool Balancer::Impl::upgrade_drained() const {
  if (!upgraded) return false;
  for (const auto& worker : workers) {
    if (!worker->finished()) return false;
  }
  return true;
}

}  // namespace fulcrum
