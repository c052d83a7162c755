// The pid file across a binary upgrade, as NGINX does it: once the new process is ready, the old
// process moves its file to PIDFILE.oldbin (process::PidFile::move_to(), removed when it exits)
// and writes the new pid to PIDFILE (write_pid() here: the new process adopts that file). Written
// whole under a temporary name and renamed into place, so a reader never sees a half-written pid.
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

}  // namespace fulcrum::process
