// What the registration sidecar needs of processes and signals: the stop signals taken
// synchronously, a command started without a shell and reaped, and a TCP probe of its address.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fulcrum::cli {

/// Blocks SIGTERM, SIGINT and SIGCHLD in the calling thread while it lives (threads started
/// meanwhile inherit the mask, so the signals reach only wait()); restores the mask after.
class SignalTaker {
 public:
  SignalTaker();
  ~SignalTaker();
  SignalTaker(const SignalTaker&) = delete;
  SignalTaker& operator=(const SignalTaker&) = delete;

  /// The next pending signal of the three, waiting at most `timeout`; 0 when none came.
  int wait(std::chrono::milliseconds timeout);
  /// The mask before construction (what a spawned command should get).
  const sigset_t& previous_mask() const { return previous_; }

 private:
  sigset_t signals_;
  sigset_t previous_;
};

/// Starts argv[0] (looked up in PATH, no shell) with argv, the current environment, stdin, stdout
/// and stderr, and the signal mask `mask` with default dispositions for SIGTERM, SIGINT and
/// SIGCHLD. Returns the pid, or nullopt with `error` set.
std::optional<pid_t> spawn_command(const std::vector<std::string>& argv, const sigset_t& mask, std::string* error);

/// The exit code a shell would report for a waitpid status: the exit status, or 128 + the signal
/// that killed it.
int exit_code_of(int wait_status);

/// Reaps `pid` if it has exited (without waiting); returns exit_code_of() its status.
std::optional<int> reap_if_exited(pid_t pid);

/// True when a TCP connection to `address` (`host:port`) is accepted within `timeout`.
bool accepts_connections(const std::string& address, std::chrono::milliseconds timeout);

}  // namespace fulcrum::cli
