#include "support/sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

#include "net/address.h"

namespace fulcrum::test {

Client Client::connect(const std::string& address, std::chrono::milliseconds timeout) {
  return connect_from("", address, timeout);
}

Client Client::connect_from(const std::string& source_ip, const std::string& address,
                            std::chrono::milliseconds timeout) {
  auto parsed = net::Address::parse_numeric(address);
  if (!parsed) return Client();
  int fd = ::socket(parsed->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Client();
  if (!source_ip.empty()) {
    auto source = net::Address::parse_numeric(source_ip + ":0");
    if (!source || ::bind(fd, source->data(), source->size()) != 0) {
      ::close(fd);
      return Client();
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, parsed->data(), parsed->size()) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return Client();
    }
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      ::close(fd);
      return Client();
    }
  }
  return Client(fd);
}

Client::~Client() { close(); }
Client::Client(Client&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Client::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

namespace {
// Waits until `fd` is readable/writable or the deadline passes.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return poll(&p, 1, static_cast<int>(left.count())) == 1;
}
}  // namespace

bool Client::send_all(std::string_view data) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::string Client::read_until(std::string_view delimiter, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string data;
  char buffer[4096];
  while (data.find(delimiter) == std::string::npos) {
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLIN, deadline)) break;
    } else {
      break;
    }
  }
  return data;
}

std::string Client::read_exactly(std::size_t want, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string data;
  char buffer[65536];
  while (data.size() < want) {
    const ssize_t n = ::recv(fd_, buffer, std::min(sizeof buffer, want - data.size()), 0);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLIN, deadline)) break;
    } else {
      break;
    }
  }
  return data;
}

std::string Client::read_to_eof(std::chrono::milliseconds timeout, bool* timed_out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string data;
  char buffer[65536];
  if (timed_out) *timed_out = false;
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLIN, deadline)) {
        if (timed_out) *timed_out = true;
        break;
      }
    } else {
      break;
    }
  }
  return data;
}

bool Client::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char byte;
  for (;;) {
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;
    if (n > 0) return false;
    if (!wait_for(fd_, POLLIN, deadline)) return false;
  }
}

namespace {

// The first port of the kernel's ephemeral range: ports below it are never chosen for a connect()
// or a bind() to port 0, so nothing but another reservation can take one between its
// reservation and its use.
int first_ephemeral_port() {
  int low = 32768;
  if (FILE* file = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(file, "%d", &low) != 1) low = 32768;
    std::fclose(file);
  }
  return low;
}

bool loopback_port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

}  // namespace

std::string reserve_loopback_address() {
  // A port from below the ephemeral range. A port the kernel gave to bind(0) and that was closed
  // again could be the source port of any test's next outgoing connection (a load test opens
  // thousands), and the server that was meant to listen on it would then fail to bind.
  static std::mt19937 random(std::random_device{}());
  static std::set<int> given;
  const int high = first_ephemeral_port() - 1;
  const int low = std::max(1024, high - 12000);
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    if (given.count(port) || !loopback_port_free(port)) continue;
    given.insert(port);
    return "127.0.0.1:" + std::to_string(port);
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

}  // namespace fulcrum::test
