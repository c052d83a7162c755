// A TCP backend for integration tests, on its own thread: greets each connection with a line
// naming itself, then echoes every byte; passes a client's FIN back after the echo (so half-close
// can be observed). Counts connections. Can be stopped and started again on the same port.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace fulcrum::test {

class TestBackend {
 public:
  /// `name` is sent as `name\n` on every accepted connection (empty: no greeting).
  explicit TestBackend(std::string name, std::string address = "127.0.0.1:0");
  ~TestBackend();
  TestBackend(const TestBackend&) = delete;
  TestBackend& operator=(const TestBackend&) = delete;

  /// `127.0.0.1:PORT` it listens (or listened) on.
  const std::string& address() const { return address_; }
  const std::string& name() const { return name_; }
  /// Closes the listener and every connection (clients see resets/FINs; new connects are refused).
  void stop();
  /// Listens again on the same address.
  void start();
  std::uint64_t accepted() const { return accepted_.load(); }
  std::int64_t open_connections() const { return open_.load(); }

 private:
  void serve(int listen_fd);

  std::string name_;
  std::string address_;
  std::thread thread_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::int64_t> open_{0};
};

}  // namespace fulcrum::test
