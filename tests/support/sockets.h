// Blocking loopback socket helpers for tests (the tests are the clients; timeouts everywhere so
// a broken balancer fails a test instead of hanging it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::test {

using namespace std::chrono_literals;

/// A connected TCP socket with send/receive timeouts; closes on destruction.
class Client {
 public:
  /// Connects to `host:port` (blocking, with a timeout); invalid() if it fails.
  static Client connect(const std::string& address, std::chrono::milliseconds timeout = 2000ms);
  /// Connects from the loopback IP `source_ip` (e.g. `127.0.0.7`), to appear as another client.
  static Client connect_from(const std::string& source_ip, const std::string& address,
                             std::chrono::milliseconds timeout = 2000ms);
  Client() = default;
  explicit Client(int fd) : fd_(fd) {}
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  Client(const Client&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send_all(std::string_view data);
  /// Reads until `delimiter` has been seen (returns everything read), EOF, or timeout.
  std::string read_until(std::string_view delimiter, std::chrono::milliseconds timeout = 3000ms);
  /// Reads exactly `n` bytes unless EOF/timeout comes first.
  std::string read_exactly(std::size_t n, std::chrono::milliseconds timeout = 3000ms);
  /// Reads until EOF (or timeout; then `timed_out` is set).
  std::string read_to_eof(std::chrono::milliseconds timeout = 3000ms, bool* timed_out = nullptr);
  /// True when the peer closed (EOF or reset) within `timeout` with no data pending.
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms);
  void shutdown_write();
  void close();

 private:
  int fd_ = -1;
};

/// `127.0.0.1:PORT` of a port that was free a moment ago (for tests that must restart a server
/// on the same port; everything else binds port 0).
std::string reserve_loopback_address();

}  // namespace fulcrum::test
