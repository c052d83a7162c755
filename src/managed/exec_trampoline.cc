// The exec trampoline of managed instances (see spawn.h): Fulcrum's executable started with argv[0]
// `fulcrum-managed-exec` and FULCRUM_MANAGED_EXEC_PARENT set becomes, before main() and before any
// other static constructor of the program, the instance's command.
//
// It runs in the fresh child of posix_spawn(), single-threaded, so it may use any call. It sets
// PR_SET_PDEATHSIG (SIGKILL: the one signal an instance cannot ignore, so that a Fulcrum killed
// with SIGKILL leaves nothing running), then checks that its parent is still the Fulcrum that
// spawned it (if Fulcrum died between the spawn and the prctl, the signal would never come), and
// exec()s the command, looked up in PATH as a shell would. The death signal survives exec() (but
// not a setuid program's). A command that cannot run exits 127 with the reason on its output.
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "managed/spawn.h"

namespace fulcrum::managed {

extern const char* const kTrampolineMarker;
const char* const kTrampolineMarker = "fulcrum-managed-exec";

namespace {

// glibc passes argc, argv and envp to ELF constructors; priority 101 runs this before the C++
// static constructors of the program (which may start threads or open files).
__attribute__((constructor(101))) void run_exec_trampoline(int argc, char** argv, char** /*envp*/) {
  if (argc < 2 || argv == nullptr || std::string_view(argv[0]) != kTrampolineMarker) return;
  const char* parent_text = std::getenv(kTrampolineVariable);
  if (parent_text == nullptr) return;
  const long parent = std::strtol(parent_text, nullptr, 10);
  ::unsetenv(kTrampolineVariable);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != static_cast<pid_t>(parent)) _exit(127);  // Fulcrum is gone already
  ::execvp(argv[1], argv + 1);
  const int error = errno;
  std::fprintf(stderr, "fulcrum: cannot run %s: %s\n", argv[1], std::strerror(error));
  _exit(127);
}

}  // namespace
}  // namespace fulcrum::managed
