// A binary upgrade, both sides (docs/upgrade.md).
//
// The old process spawns the new one (spawn_upgrade()): the same program, started from the path
// the old one was started from (a file replaced there is the new binary), with the same arguments,
// every listening socket inherited (FULCRUM_INHERITED_FDS) and the write end of a pipe
// (FULCRUM_UPGRADE_READY_FD). The new process writes one byte on that pipe once it serves
// (notify_upgrade_ready()); the old one watches the pipe, the child's exit and a deadline
// (ChildUpgrade::poll()). The old process keeps the read end open until it exits, so the new one
// can tell whether its predecessor still drains (UpgradeParent::draining()).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/socket.h"
#include "process/inherited_sockets.h"

namespace fulcrum::process {

inline constexpr const char* kReadyFdVariable = "FULCRUM_UPGRADE_READY_FD";

/// `fulcrum upgrade` queues SIGUSR2 (sigqueue) with this value, and waits for the answer: a
/// SIGUSR2 queued back carrying the new pid (> 0), kUpgradeAnswerRefused or kUpgradeAnswerFailed.
/// A plain `kill -USR2` gets no answer (the sender may not expect a signal back).
inline constexpr int kUpgradeRequestValue = 0x55504752;  // "UPGR"
inline constexpr int kUpgradeAnswerRefused = -1;
inline constexpr int kUpgradeAnswerFailed = -2;

/// The absolute path this process was started from: `argv0` made absolute against the current
/// directory when it holds a '/', looked up in PATH otherwise. Not resolved through symbolic links,
/// so a link moved to another version is followed at the next upgrade. Empty when it cannot be
/// found (spawn_upgrade() then executes /proc/self/exe). Call at start, before any chdir().
std::string started_path(const std::string& argv0);

/// What to start.
struct UpgradeSpawn {
  /// The path to execute; when it no longer exists there (the file was moved away), /proc/self/exe
  /// is executed instead (the running binary, wherever it is now).
  std::string program;
  /// argv, argv[0] included.
  std::vector<std::string> arguments;
  /// Every socket to hand over, with fds owned by the caller (they may be close-on-exec: the
  /// child clears the flag on them). HandedSocket::fd is the number the child sees too.
  std::vector<HandedSocket> sockets;
  std::chrono::milliseconds ready_timeout{30'000};
};

/// One new process being started, seen from the old one. Controlling thread only.
class ChildUpgrade {
 public:
  enum class State { Starting, Ready, Failed };

  /// Forks and executes `spawn`; null with `error` set if the pipe or the fork failed (a failed
  /// exec shows as the child's exit, status 127).
  static std::unique_ptr<ChildUpgrade> spawn(const UpgradeSpawn& spawn, std::string& error);
  /// Kills the child (SIGKILL) and reaps it if it is neither ready nor reaped yet.
  ~ChildUpgrade();
  ChildUpgrade(const ChildUpgrade&) = delete;
  ChildUpgrade& operator=(const ChildUpgrade&) = delete;

  /// Looks at the pipe, the child and the clock without blocking. Starting → Ready when the byte
  /// came; → Failed (reason() says why; the child killed and reaped) when the child exited or
  /// closed the pipe first, or the deadline passed. Ready and Failed are final.
  State poll();
  /// Waits up to `timeout` for the pipe to become readable (a quicker answer than polling).
  void wait(std::chrono::milliseconds timeout);
  State state() const { return state_; }
  const std::string& reason() const { return reason_; }
  pid_t pid() const { return pid_; }
  /// After Ready: reaps the child if it has exited since (it is the old process's child until the
  /// old one exits); true if it did.
  bool reap_if_exited(int* status);

 private:
  ChildUpgrade() = default;
  void fail(std::string reason);

  pid_t pid_ = -1;
  bool reaped_ = false;
  net::UniqueFd ready_read_;  // kept open while this process lives: the child watches it
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds timeout_{0};
  State state_ = State::Starting;
  std::string reason_;
};

/// Seen from the new process: the pipe to the process it replaces, if it was started by one.
class UpgradeParent {
 public:
  /// Reads and removes FULCRUM_UPGRADE_READY_FD; null unless it names a pipe. Call before any
  /// thread starts.
  static std::unique_ptr<UpgradeParent> from_environment();
  /// Tells the old process this one serves: it stops accepting and drains. Once.
  void notify_ready();
  /// True while the old process lives (it keeps the pipe's read end until it exits).
  bool draining();
  pid_t parent_pid() const { return parent_; }

 private:
  net::UniqueFd ready_write_;
  pid_t parent_ = -1;
  bool notified_ = false;
};

}  // namespace fulcrum::process
