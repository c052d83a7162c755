// Child processes for integration tests: spawn, read their stderr line by line, signal, reap.
// Every process is killed and reaped by the destructor, so a failing test leaves nothing behind.
//
// A thread drains the child's output pipe all the time: a test that reads no output for a while
// (a thousand reloads, each logged) must not let the pipe fill, which would block the child on its
// next log line and look like a hang of the process under test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <optional>
#include <string>
#include <vector>

namespace fulcrum::test {

class Process {
 public:
  /// Starts argv[0] (a path) with stdout and stderr captured. Aborts the test on failure.
  explicit Process(std::vector<std::string> argv);
  ~Process();
  Process(Process&&) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  /// Reads stderr lines until one satisfies `match` or `timeout` passes; returns that line.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds timeout);
  /// Every stderr line read so far (wait_for_line and wait_exit read them).
  const std::vector<std::string>& lines() const { return lines_; }
  /// Drops the lines read so far, for a caller that scans a chatty process's output as it comes
  /// and must not keep all of it (soak tests).
  void forget_lines() { lines_.clear(); }
  /// Reads whatever output arrives until none has come for `quiet`.
  void read_output(std::chrono::milliseconds quiet = std::chrono::milliseconds(100));
  std::string all_output() const;
  void signal(int sig);
  /// Waits for the exit; returns the exit code (128+signal if killed), nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

  /// What the drain thread collects (process.cc).
  struct Output;

 private:
  /// Takes what the drain thread collected, waiting up to `timeout_ms` for something; false when
  /// nothing came (or the output ended).
  bool read_available(int timeout_ms);

  pid_t pid_ = -1;
  std::shared_ptr<Output> output_;
  std::thread drainer_;
  bool ended_ = false;  // the output pipe reached EOF and everything was taken
  std::string partial_;
  std::vector<std::string> lines_;
  std::optional<int> exit_code_;
};

}  // namespace fulcrum::test
