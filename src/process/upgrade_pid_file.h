// The pidfile across a binary upgrade, as NGINX does it: once the new process is ready, the old
// pid moves to PIDFILE.oldbin and PIDFILE names the new one; PIDFILE.oldbin goes when the old
// process exits. Each file is written whole under a temporary name and renamed into place, so a
// reader never sees a half-written pid.
#pragma once

#include <sys/types.h>

#include <string>

namespace fulcrum::process {

/// `path` + ".oldbin".
std::string oldbin_path(const std::string& path);
/// Writes "PID\n" to `path` atomically; empty on success, else why not.
std::string write_pid(const std::string& path, pid_t pid);
/// The pid `path` names; -1 if it is missing or does not hold one.
pid_t read_pid(const std::string& path);
/// The new process `new_pid` is ready: PIDFILE.oldbin names `old_pid`, PIDFILE `new_pid`. Empty
/// on success, else why not (the upgrade still stands: the pidfile is a convenience).
std::string publish_upgrade(const std::string& path, pid_t old_pid, pid_t new_pid);
/// Removes `path` if it still names `pid` (a successor may have taken it over).
void remove_pid_if_ours(const std::string& path, pid_t pid);

}  // namespace fulcrum::process
