#include "support/proxy_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <string_view>

#include "net/address.h"
#include "net/proxy_protocol.h"
#include "net/socket.h"

namespace fulcrum::test {

namespace {

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// The value of header `name` (lower case) in `head`, or "-".
std::string header_value(std::string_view head, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    const std::size_t end = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < colon; ++i) same = same && std::tolower(static_cast<unsigned char>(line[i])) == name[i];
    if (!same) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return std::string(value);
  }
  return "-";
}

}  // namespace

ProxyBackend::ProxyBackend(Mode mode) : mode_(mode) {
  std::string error;
  auto fd = net::bind_listener(*net::Address::parse_numeric("127.0.0.1:0"), 128, &error);
  if (!fd) throw std::runtime_error("proxy backend: " + error);
  address_ = net::Address::local_of(fd.get()).to_string();
  listen_fd_ = fd.release();
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  acceptor_ = std::thread([this] { accept_loop(); });
}

ProxyBackend::~ProxyBackend() {
  char byte = 1;
  [[maybe_unused]] auto n = write(stop_pipe_[1], &byte, 1);
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();  // each ends within its receive timeout
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

std::vector<std::string> ProxyBackend::headers() const {
  std::lock_guard lock(mutex_);
  return headers_;
}

void ProxyBackend::accept_loop() {
  for (;;) {
    pollfd polls[2] = {{stop_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (poll(polls, 2, 1000) < 0 && errno != EINTR) return;
    if (polls[0].revents) return;
    if (!(polls[1].revents & POLLIN)) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    timeval timeout{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void ProxyBackend::serve(int fd) {
  std::string in;
  char buffer[4096];
  net::ProxyParse parse;
  for (;;) {
    parse = net::parse_proxy_header(in);
    if (parse.status != net::ProxyStatus::NeedMore) break;
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    in.append(buffer, static_cast<std::size_t>(n));
  }
  if (parse.status != net::ProxyStatus::Done) {
    without_header_.fetch_add(1);
    close(fd);
    return;
  }
  with_header_.fetch_add(1);
  std::string said = parse.version == net::ProxyVersion::V1 ? "v1" : "v2";
  if (parse.local) {
    local_.fetch_add(1);
    said += " local";
  } else {
    said += " client=" + parse.source->to_string() + " dst=" + parse.destination->to_string();
  }
  {
    std::lock_guard lock(mutex_);
    headers_.push_back(said);
  }
  in.erase(0, parse.length);
  if (mode_ == Mode::Echo) {
    if (send_all(fd, said + "\n") && send_all(fd, in)) {
      for (;;) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0 || !send_all(fd, std::string_view(buffer, static_cast<std::size_t>(n)))) break;
      }
    }
  } else {
    for (;;) {
      const std::size_t end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string body = said + " xff=" + header_value(std::string_view(in).substr(0, end + 2), "x-forwarded-for");
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n" + body);
        break;
      }
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      in.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(fd);
}

}  // namespace fulcrum::test
