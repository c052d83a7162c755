#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include <gtest/gtest.h>

extern char** environ;

namespace fulcrum::test {

/// What the drain thread shares with the Process (which may move, so not through `this`).
struct Process::Output {
  std::mutex mutex;
  std::condition_variable arrived;
  std::string bytes;
  bool ended = false;
  std::atomic<bool> stop{false};
};

namespace {

void drain(int fd, std::shared_ptr<Process::Output> output);

}  // namespace

Process::Process(std::vector<std::string> argv) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error("cannot spawn " + argv[0]);
  }
  output_ = std::make_shared<Output>();
  drainer_ = std::thread(drain, pipe_fds[0], output_);
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_(std::move(other.output_)),
      drainer_(std::move(other.drainer_)),
      ended_(other.ended_),
      partial_(std::move(other.partial_)),
      lines_(std::move(other.lines_)),
      exit_code_(other.exit_code_) {}

Process::~Process() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  // A process the child started may still hold the pipe: the thread stops on the flag, not EOF.
  if (output_) output_->stop.store(true);
  if (drainer_.joinable()) drainer_.join();
}

namespace {

void drain(int fd, std::shared_ptr<Process::Output> output) {
  char buffer[16 * 1024];
  while (!output->stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(output->mutex);
    if (n <= 0) {
      output->ended = true;
      output->arrived.notify_all();
      break;
    }
    output->bytes.append(buffer, static_cast<std::size_t>(n));
    output->arrived.notify_all();
  }
  close(fd);
}

}  // namespace

bool Process::read_available(int timeout_ms) {
  if (ended_ || !output_) return false;
  std::string taken;
  bool ended = false;
  {
    std::unique_lock lock(output_->mutex);
    output_->arrived.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                              [&] { return !output_->bytes.empty() || output_->ended; });
    taken = std::exchange(output_->bytes, {});
    ended = output_->ended;
  }
  if (taken.empty()) {
    if (ended) {
      ended_ = true;
      if (!partial_.empty()) lines_.push_back(std::exchange(partial_, {}));
    }
    return false;
  }
  partial_.append(taken);
  std::size_t start = 0;
  for (auto end = partial_.find('\n'); end != std::string::npos; end = partial_.find('\n', start)) {
    lines_.push_back(partial_.substr(start, end - start));
    start = end + 1;
  }
  partial_.erase(0, start);
  return true;
}

std::optional<std::string> Process::wait_for_line(const std::function<bool(const std::string&)>& match,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t checked = 0;
  for (;;) {
    for (; checked < lines_.size(); ++checked) {
      if (match(lines_[checked])) return lines_[checked];
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!read_available(static_cast<int>(left.count())) && ended_) {
      for (; checked < lines_.size(); ++checked) {
        if (match(lines_[checked])) return lines_[checked];
      }
      return std::nullopt;
    }
  }
}

void Process::read_output(std::chrono::milliseconds quiet) {
  while (read_available(static_cast<int>(quiet.count()))) {
  }
}

std::string Process::all_output() const {
  std::string text;
  for (const auto& line : lines_) text += line + "\n";
  text += partial_;
  // And what the drain thread holds that no read took yet: a failure message shows everything.
  if (output_) {
    std::lock_guard lock(output_->mutex);
    text += output_->bytes;
  }
  return text;
}

void Process::signal(int sig) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

bool Process::running() {
  if (exit_code_) return false;
  int status;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    if (!read_available(20)) usleep(5000);
  }
  // The exit closed the child's end of the pipe, but the drain thread may not have read the last
  // of it yet: take everything up to EOF (bounded: a process the child started may hold the pipe).
  const auto drained_by = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!ended_ && std::chrono::steady_clock::now() < drained_by) read_available(50);
  return exit_code_;
}

}  // namespace fulcrum::test
