// A tiny HTTP origin for the health tests: answers `/health` (or the configured health path) with
// a status and body the test sets at any time, and every other path with its own status and
// `X-Backend: <name>`; one request per connection (Connection: close). Counts health checks (and
// those answered while failing) and other requests. Serves on its own thread, one connection at a
// time (probes and test requests are short); stop() refuses new connections, start() listens again
// on the same port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum::test {

class HealthOrigin {
 public:
  explicit HealthOrigin(std::string name) : name_(std::move(name)) { start(); }
  ~HealthOrigin() { stop(); }
  HealthOrigin(const HealthOrigin&) = delete;
  HealthOrigin& operator=(const HealthOrigin&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& name() const { return name_; }

  void set_health(int status, std::string body = "ok") {
    std::lock_guard lock(mutex_);
    health_status_ = status;
    health_body_ = std::move(body);
  }
  void set_status(int status) { status_.store(status); }
  /// Health checks answered (any status), and those answered with a status outside 200-399.
  std::uint64_t checks() const { return checks_.load(); }
  std::uint64_t failed_checks() const { return failed_checks_.load(); }
  /// Requests for any other path.
  std::uint64_t requests() const { return requests_.load(); }

  void start() {
    if (listen_fd_ >= 0) return;
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd_, 128) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return;
    }
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (::pipe(stop_pipe_) != 0) return;
    thread_ = std::thread([this] { serve(); });
  }

  void stop() {
    if (listen_fd_ < 0) return;
    [[maybe_unused]] auto n = ::write(stop_pipe_[1], "x", 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    listen_fd_ = -1;
  }

 private:
  void serve() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      answer(fd);
      ::close(fd);
    }
  }

  void answer(int fd) {
    std::string request;
    char chunk[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 1000) <= 0) return;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      request.append(chunk, static_cast<std::size_t>(n));
    }
    const auto first_space = request.find(' ');
    const auto second_space = request.find(' ', first_space + 1);
    const std::string path = request.substr(first_space + 1, second_space - first_space - 1);
    int status;
    std::string body;
    if (path == "/health") {
      std::lock_guard lock(mutex_);
      status = health_status_;
      body = health_body_;
      ++checks_;
      if (status < 200 || status > 399) ++failed_checks_;
    } else {
      status = status_.load();
      body = name_ + "\n";
      ++requests_;
    }
    const std::string response = "HTTP/1.1 " + std::to_string(status) + " X\r\nX-Backend: " + name_ +
                                 "\r\nContent-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body;
    [[maybe_unused]] auto sent = ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  }

  std::string name_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mutex_;
  int health_status_ = 200;
  std::string health_body_ = "ok";
  std::atomic<int> status_{200};
  std::atomic<std::uint64_t> checks_{0};
  std::atomic<std::uint64_t> failed_checks_{0};
  std::atomic<std::uint64_t> requests_{0};
};

/// One worker (one round-robin cursor: exact shares), one `mode: http` listener `front` on port 0,
/// over `pool` named `pool_name` with `backends`.
inline Config health_test_config(const std::vector<std::string>& backends, PoolConfig pool,
                                 const std::string& pool_name = "app") {
  Config config;
  config.workers = 1;
  ListenerConfig listener;
  listener.name = "front";
  listener.listen = "127.0.0.1:0";
  listener.mode = ListenerMode::Http;
  listener.pool = pool_name;
  config.listeners.push_back(listener);
  pool.name = pool_name;
  for (const auto& b : backends) pool.backends.push_back({.address = b});
  config.pools.push_back(std::move(pool));
  return config;
}

/// HTTP checks every 100 ms (80 ms timeout), so that rise and fall play out within a test.
inline HealthCheckConfig fast_checks(std::uint32_t rise, std::uint32_t fall) {
  HealthCheckConfig health;
  health.kind = HealthCheckConfig::Kind::Http;
  health.interval = std::chrono::milliseconds(100);
  health.timeout = std::chrono::milliseconds(80);
  health.rise = rise;
  health.fall = fall;
  return health;
}

}  // namespace fulcrum::test
