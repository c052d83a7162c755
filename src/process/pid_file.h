// The pid file (`pid_file:`, `fulcrum run --pid-file`): one line, the process id, so that
// `fulcrum stop`/`reload`, init scripts and logrotate can find the running process. Written once
// the listeners are bound (a process that cannot serve never claims the file), removed at a clean
// exit. A binary upgrade moves the old process's file aside (move_to(PIDFILE.oldbin)) before the
// new process writes PIDFILE.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace fulcrum::process {

/// The pid file of this process. Not thread-safe: owned by the thread that starts and stops the
/// balancer. Destroying it leaves the file alone (only remove() removes it).
class PidFile {
 public:
  explicit PidFile(std::string path) : path_(std::move(path)) {}

  /// Writes `pid` and a newline to a temporary file beside path() and renames it over path(), so
  /// that a reader never sees a half-written file. Returns an error text, empty on success.
  std::string write(pid_t pid);

  /// Removes path() if it still holds the pid this object wrote: a file some other process has
  /// claimed since (a new binary after an upgrade) is left alone. Returns an error text, empty on
  /// success or when there was nothing of ours to remove.
  std::string remove();

  /// Renames the file to `new_path` (e.g. `PIDFILE.oldbin`) and follows it there: remove() then
  /// removes the new name. Returns an error text, empty on success.
  std::string move_to(const std::string& new_path);

  /// This process is named in path() by another one (the old process after a binary upgrade
  /// writes the new one's pid): remove() removes the file as if write(pid) had written it.
  void adopt(pid_t pid) { pid_ = pid; }

  const std::string& path() const { return path_; }
  /// The pid written, 0 before write().
  pid_t pid() const { return pid_; }

 private:
  std::string path_;
  pid_t pid_ = 0;
};

/// Reads the pid in `path`; nullopt with `error` set (`cannot read /run/fulcrum.pid: No such file
/// or directory`, `... does not hold a process id`) otherwise.
std::optional<pid_t> read_pid_file(const std::string& path, std::string* error);

}  // namespace fulcrum::process
