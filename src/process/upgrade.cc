#include "process/upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

extern char** environ;

namespace fulcrum::process {

namespace {

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended";
}

bool starts_with(const char* text, std::string_view prefix) {
  return std::strncmp(text, prefix.data(), prefix.size()) == 0;
}

}  // namespace

std::string started_path(const std::string& argv0) {
  if (argv0.empty()) return {};
  if (argv0.find('/') != std::string::npos) {
    if (argv0.front() == '/') return argv0;
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) return {};
    // Not normalized beyond a leading `./`: `dir/../x` through a symbolic link `dir` is not `x`.
    std::string_view relative = argv0;
    while (relative.substr(0, 2) == "./") relative.remove_prefix(2);
    return std::string(cwd) + "/" + std::string(relative);
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + argv0;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.front() == '/' ? candidate : started_path(candidate);
    if (colon == std::string_view::npos) return {};
    dirs.remove_prefix(colon + 1);
  }
}

// ------------------------------------------------------------------------------- old process

std::unique_ptr<ChildUpgrade> ChildUpgrade::spawn(const UpgradeSpawn& spawn, std::string& error) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error = std::string("cannot create the readiness pipe: ") + std::strerror(errno);
    return nullptr;
  }
  net::UniqueFd ready_read(pipe_fds[0]);
  net::UniqueFd ready_write(pipe_fds[1]);

  // Everything the child needs is built here: between fork() and exec() it may only make
  // async-signal-safe calls (other threads may hold the allocator's locks).
  std::vector<std::string> env_strings;
  for (char** entry = environ; entry && *entry; ++entry) {
    if (starts_with(*entry, std::string(kInheritedFdsVariable) + "=") ||
        starts_with(*entry, std::string(kReadyFdVariable) + "=")) {
      continue;
    }
    env_strings.emplace_back(*entry);
  }
  env_strings.push_back(std::string(kInheritedFdsVariable) + "=" + format_inherited(spawn.sockets));
  env_strings.push_back(std::string(kReadyFdVariable) + "=" + std::to_string(ready_write.get()));
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings = spawn.arguments;
  if (arg_strings.empty()) arg_strings.push_back("fulcrum");
  std::vector<char*> argv;
  for (auto& arg : arg_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<int> inherit;
  for (const auto& socket : spawn.sockets) inherit.push_back(socket.fd);
  inherit.push_back(ready_write.get());
  const std::string program = spawn.program.empty() ? std::string("/proc/self/exe") : spawn.program;
  sigset_t none;
  sigemptyset(&none);

  const pid_t pid = fork();
  if (pid < 0) {
    error = std::string("cannot fork: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    // The child: signals as a freshly started program has them (the parent blocks some for its
    // sigtimedwait loop and ignores SIGPIPE; both would survive exec()).
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int fd : inherit) fcntl(fd, F_SETFD, 0);
    execve(program.c_str(), argv.data(), envp.data());
    // Not there any more (moved away, or a directory renamed): the running binary, wherever it is.
    if (errno == ENOENT || errno == ENOTDIR) execve("/proc/self/exe", argv.data(), envp.data());
    _exit(127);
  }
  std::unique_ptr<ChildUpgrade> child(new ChildUpgrade());
  child->pid_ = pid;
  child->ready_read_ = std::move(ready_read);
  fcntl(child->ready_read_.get(), F_SETFL, O_NONBLOCK);
  child->deadline_ = std::chrono::steady_clock::now() + spawn.ready_timeout;
  child->timeout_ = spawn.ready_timeout;
  return child;  // ready_write closes here: only the child holds the write end now
}

ChildUpgrade::~ChildUpgrade() {
  if (pid_ > 0 && !reaped_ && state_ != State::Ready) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void ChildUpgrade::fail(std::string reason) {
  state_ = State::Failed;
  reason_ = std::move(reason);
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
}

ChildUpgrade::State ChildUpgrade::poll() {
  if (state_ != State::Starting) return state_;
  char byte;
  const ssize_t got = read(ready_read_.get(), &byte, 1);
  if (got == 1) {
    state_ = State::Ready;
    return state_;
  }
  int status = 0;
  if (got == 0) {
    // The write end closed: the child exited (or closed it) without saying it was ready. Give
    // it a moment to be reaped, for a reason that says how it ended.
    for (int i = 0; i < 20 && !reaped_; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    fail(reaped_ ? "the new process " + describe_exit(status) + " before it was ready"
                 : "the new process closed the readiness pipe before it was ready");
    return state_;
  }
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    fail("the new process " + describe_exit(status) + " before it was ready");
    return state_;
  }
  if (std::chrono::steady_clock::now() >= deadline_) {
    fail("the new process was not ready within " + std::to_string(timeout_.count()) + " ms");
  }
  return state_;
}

void ChildUpgrade::wait(std::chrono::milliseconds timeout) {
  if (state_ != State::Starting) return;
  pollfd entry{ready_read_.get(), POLLIN, 0};
  ::poll(&entry, 1, static_cast<int>(timeout.count()));
}

bool ChildUpgrade::reap_if_exited(int* status) {
  if (reaped_ || pid_ <= 0) return false;
  int local = 0;
  if (waitpid(pid_, &local, WNOHANG) != pid_) return false;
  reaped_ = true;
  if (status) *status = local;
  return true;
}

// ------------------------------------------------------------------------------- new process

std::unique_ptr<UpgradeParent> UpgradeParent::from_environment() {
  const char* value = std::getenv(kReadyFdVariable);
  if (value == nullptr) return nullptr;
  const std::string_view text(value);
  int fd = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), fd);
  unsetenv(kReadyFdVariable);
  if (error != std::errc() || fd < 0) return nullptr;
  struct stat info {};
  // Anything but a pipe is not ours to write to (a stale variable, a reused number).
  if (fstat(fd, &info) != 0 || !S_ISFIFO(info.st_mode)) return nullptr;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  auto parent = std::make_unique<UpgradeParent>();
  parent->ready_write_ = net::UniqueFd(fd);
  parent->parent_ = getppid();
  return parent;
}

void UpgradeParent::notify_ready() {
  if (notified_ || !ready_write_) return;
  notified_ = true;
  const char byte = 'R';
  while (write(ready_write_.get(), &byte, 1) < 0 && errno == EINTR) {
  }
}

bool UpgradeParent::draining() {
  if (!ready_write_) return false;
  pollfd entry{ready_write_.get(), POLLOUT, 0};
  // A pipe's write end reports POLLERR once the read end, which the old process keeps until it
  // exits, is closed.
  if (::poll(&entry, 1, 0) == 1 && (entry.revents & (POLLERR | POLLHUP))) {
    ready_write_.reset();
    return false;
  }
  return true;
}

}  // namespace fulcrum::process
