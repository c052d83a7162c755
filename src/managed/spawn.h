// Starts one managed instance as a process of its own, safely from a multi-threaded Fulcrum.
//
// posix_spawn() (never fork(): the workers are threads) runs Fulcrum's own executable
// (/proc/self/exe) as a tiny exec trampoline (exec_trampoline.cc): before anything else runs in
// it, it asks the kernel to SIGKILL it when the thread that spawned it (the control thread) ends,
// checks that Fulcrum did not die in between, and exec()s the instance's command. posix_spawn
// cannot set PR_SET_PDEATHSIG itself; the trampoline is how a Fulcrum killed with SIGKILL leaves
// no instance behind. Each instance leads a process group of its own (stop signals go to the
// group), has every signal at its default and none blocked (Fulcrum blocks its stop signals and
// ignores SIGPIPE), stdin from /dev/null, and stdout/stderr to `output_fd`.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "net/socket.h"

namespace fulcrum::managed {

/// What to start.
struct SpawnRequest {
  /// The command, substituted; argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  /// `NAME=value` entries: the whole environment.
  std::vector<std::string> env;
  /// Its working directory; empty: Fulcrum's.
  std::string cwd;
  /// Becomes its stdout and stderr (a pipe's write end or a log file).
  int output_fd = -1;
};

/// A started process: its pid (also its process group's id) and a pidfd that becomes readable when
/// it exits.
struct SpawnedProcess {
  pid_t pid = -1;
  net::UniqueFd pidfd;
};

/// Starts `request`; false with `error` set when the process could not be created. A command that
/// cannot be executed (not found, not executable) still starts: the trampoline says why on the
/// output and exits with status 127, as a shell would.
bool spawn_process(const SpawnRequest& request, SpawnedProcess& out, std::string& error);

/// The environment variable that turns Fulcrum's executable into the trampoline; its value is the
/// pid of the process that must still be the parent.
inline constexpr const char* kTrampolineVariable = "FULCRUM_MANAGED_EXEC_PARENT";

}  // namespace fulcrum::managed
