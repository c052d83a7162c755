#include "managed/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::managed {

/// Defined in exec_trampoline.cc; referenced here so that the linker keeps that object (and its
/// constructor) in every program that can spawn instances.
extern const char* const kTrampolineMarker;

namespace {

/// Frees posix_spawn's attribute and file-action objects on every path.
struct SpawnAttributes {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnAttributes() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

std::vector<char*> pointers(std::vector<std::string>& words) {
  std::vector<char*> out;
  for (auto& word : words) out.push_back(word.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

bool spawn_process(const SpawnRequest& request, SpawnedProcess& out, std::string& error) {
  if (request.argv.empty()) {
    error = "no command";
    return false;
  }
  // argv: the trampoline's marker, then the command; the trampoline finds its parent's pid in env.
  std::vector<std::string> argv{kTrampolineMarker};
  argv.insert(argv.end(), request.argv.begin(), request.argv.end());
  std::vector<std::string> env = request.env;
  env.push_back(std::string(kTrampolineVariable) + "=" + std::to_string(::getpid()));
  auto argv_pointers = pointers(argv);
  auto env_pointers = pointers(env);

  SpawnAttributes spawn;
  sigset_t none, every;
  sigemptyset(&none);
  sigfillset(&every);
  sigdelset(&every, SIGKILL);
  sigdelset(&every, SIGSTOP);
  posix_spawnattr_setsigmask(&spawn.attributes, &none);
  posix_spawnattr_setsigdefault(&spawn.attributes, &every);
  posix_spawnattr_setpgroup(&spawn.attributes, 0);  // a group of its own, led by the instance
  posix_spawnattr_setflags(&spawn.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_addopen(&spawn.actions, 0, "/dev/null", O_RDONLY, 0);
  if (request.output_fd >= 0) {
    posix_spawn_file_actions_adddup2(&spawn.actions, request.output_fd, 1);
    posix_spawn_file_actions_adddup2(&spawn.actions, request.output_fd, 2);
  }
  if (!request.cwd.empty()) posix_spawn_file_actions_addchdir_np(&spawn.actions, request.cwd.c_str());

  pid_t pid = -1;
  const int result = posix_spawn(&pid, "/proc/self/exe", &spawn.actions, &spawn.attributes, argv_pointers.data(),
                                 env_pointers.data());
  if (result != 0) {
    error = std::string("cannot start: ") + std::strerror(result);
    return false;
  }
  // A pidfd refers to this process for good (never to a later one that reuses the pid); it is
  // readable once the process exited, before anyone reaps it.
  net::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    error = std::string("pidfd_open: ") + std::strerror(errno);
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    return false;
  }
  out.pid = pid;
  out.pidfd = std::move(pidfd);
  return true;
}

}  // namespace fulcrum::managed
