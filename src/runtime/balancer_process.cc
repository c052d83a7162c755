// fulcrum::Balancer's process-level duties (src/process/ does the work): the pid file written once
// everything is bound, the drop to `user:`/`group:` before any thread accepts, and systemd's
// notify protocol (READY, RELOADING, STOPPING, STATUS) while run() runs.
#include <unistd.h>

#include "core/log.h"
#include "process/identity.h"
#include "process/sd_notify.h"
#include "runtime/balancer_impl.h"

namespace fulcrum {

Status Balancer::Impl::write_pid_file() {
  const std::string& path = pid_file_override.empty() ? config.pid_file : pid_file_override;
  if (path.empty()) return {};
  auto file = std::make_unique<process::PidFile>(path);
  if (upgrade_parent) {
    // Started by a binary upgrade: the old process names this one in the file once it is ready
    // (balancer_upgrade.cc); this one removes it at exit like a file it wrote.
    file->adopt(::getpid());
    pid_file = std::move(file);
    return {};
  }
  if (auto error = file->write(::getpid()); !error.empty()) return {"pid_file: " + error};
  pid_file = std::move(file);
  return {};
}

Status Balancer::Impl::drop_privileges() {
  std::string error;
  auto identity = process::resolve_identity(config.user, config.group, &error);
  if (!identity) return {error};  // empty: neither key is set
  if (error = process::drop_privileges(*identity); !error.empty()) return {"cannot drop privileges: " + error};
  log::write_unlimited(log::Level::Info, "privileges dropped",
                       {{"user", identity->change_user ? identity->user : std::string("(unchanged)")},
                        {"uid", static_cast<std::int64_t>(::getuid())},
                        {"group", identity->group},
                        {"gid", static_cast<std::int64_t>(::getgid())}});
  // The state file is replaced by a rename after each change: its directory must be writable now,
  // or every runtime change would be lost at the next start.
  const std::string state_file = config.admin ? config.admin->state_file : std::string();
  if (!state_file.empty()) {
    const auto slash = state_file.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : state_file.substr(0, slash);
    if (::access(directory.c_str(), W_OK | X_OK) != 0) {
      return {"admin.state_file: " + directory + " is not writable by user '" + identity->user +
              "' (the file is rewritten by a rename in its directory): give it that user, or move the file"};
    }
  }
  return {};
}

void Balancer::Impl::notify(const std::string& state) {
  if (!notify_service_manager.load(std::memory_order_relaxed)) return;
  if (auto error = process::notify_service_manager(state); !error.empty()) {
    log::warn("cannot notify the service manager", {{"error", error}});
  }
}

void Balancer::Impl::notify_from_control(std::function<std::string()> state) {
  if (!notify_service_manager.load(std::memory_order_relaxed)) return;
  if (control && !control->on_control_thread()) {
    control->loop().post([this, state = std::move(state)] { notify(state()); });
    return;
  }
  notify(state());
}

void Balancer::Impl::notify_ready(const std::string& extra) {
  notify_from_control([this, extra] { return "READY=1\n" + extra + "STATUS=" + serving_status(); });
}

std::string Balancer::Impl::serving_status() const {
  std::string text = "serving " + std::to_string(listeners.size()) + (listeners.size() == 1 ? " listener" : " listeners") +
                     ", configuration generation " +
                     std::to_string(reload_state.generation.load(std::memory_order_relaxed));
  if (reload_state.last_reload_unix.load(std::memory_order_relaxed) > 0 &&
      !reload_state.last_reload_ok.load(std::memory_order_relaxed)) {
    text += " (the last reload failed; see the log)";
  }
  return text;
}

}  // namespace fulcrum
