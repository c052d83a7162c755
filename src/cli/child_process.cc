#include "cli/child_process.h"

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/address.h"
#include "net/socket.h"

extern char** environ;

namespace fulcrum::cli {

SignalTaker::SignalTaker() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
}

SignalTaker::~SignalTaker() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

int SignalTaker::wait(std::chrono::milliseconds timeout) {
  timespec interval{static_cast<time_t>(timeout.count() / 1000), static_cast<long>(timeout.count() % 1000) * 1'000'000};
  siginfo_t info;
  const int signal_number = sigtimedwait(&signals_, &info, &interval);
  return signal_number > 0 ? signal_number : 0;
}

std::optional<pid_t> spawn_command(const std::vector<std::string>& argv, const sigset_t& mask, std::string* error) {
  if (argv.empty()) {
    *error = "no command";
    return std::nullopt;
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGCHLD);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int result = posix_spawnp(&pid, args[0], nullptr, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  if (result != 0) {
    *error = "cannot start '" + argv[0] + "': " + std::strerror(result);
    return std::nullopt;
  }
  return pid;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::optional<int> reap_if_exited(pid_t pid) {
  int status = 0;
  pid_t result;
  do {
    result = waitpid(pid, &status, WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == pid) return exit_code_of(status);
  if (result < 0 && errno == ECHILD) return 1;  // reaped elsewhere: nothing more to learn
  return std::nullopt;
}

bool accepts_connections(const std::string& address, std::chrono::milliseconds timeout) {
  auto to = net::Address::resolve(address);
  if (!to) return false;
  net::UniqueFd fd = net::make_tcp_socket(to->family());
  if (!fd) return false;
  switch (net::start_connect(fd.get(), *to)) {
    case net::ConnectStart::Connected:
      return true;
    case net::ConnectStart::Failed:
      return false;
    case net::ConnectStart::InProgress:
      break;
  }
  pollfd waiting{.fd = fd.get(), .events = POLLOUT, .revents = 0};
  if (poll(&waiting, 1, static_cast<int>(timeout.count())) != 1) return false;
  return net::socket_error(fd.get()) == 0;
}

}  // namespace fulcrum::cli
