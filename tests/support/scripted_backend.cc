#include "support/scripted_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::test {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The framing a request head announces: chunked, a Content-Length, or no body.
struct Framing {
  bool chunked = false;
  std::size_t length = 0;
};

Framing framing_of(std::string_view head) {
  Framing framing;
  const std::string text = lower(head);
  std::size_t at = 0;
  while ((at = text.find("\r\n", at)) != std::string::npos) {
    at += 2;
    const std::size_t end = text.find("\r\n", at);
    if (end == std::string::npos || end == at) break;
    const std::string_view line = std::string_view(text).substr(at, end - at);
    if (line.starts_with("content-length:")) {
      framing.length = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
    } else if (line.starts_with("transfer-encoding:") && line.find("chunked") != std::string_view::npos) {
      framing.chunked = true;
    }
  }
  return framing;
}

// Where a chunked body at the front of `body` ends (its trailers included), or nullopt.
std::optional<std::size_t> chunked_length(std::string_view body) {
  std::size_t at = 0;
  for (;;) {
    const std::size_t line_end = body.find("\r\n", at);
    if (line_end == std::string_view::npos) return std::nullopt;
    const std::size_t size = std::strtoull(std::string(body.substr(at, line_end - at)).c_str(), nullptr, 16);
    at = line_end + 2;
    if (size == 0) break;
    if (body.size() < at + size + 2) return std::nullopt;
    at += size + 2;
  }
  for (;;) {  // trailer lines, then the empty line
    const std::size_t line_end = body.find("\r\n", at);
    if (line_end == std::string_view::npos) return std::nullopt;
    const bool empty = line_end == at;
    at = line_end + 2;
    if (empty) return at;
  }
}

std::optional<std::size_t> body_length(std::string_view head, std::string_view after_head) {
  const Framing framing = framing_of(head);
  if (framing.chunked) return chunked_length(after_head);
  if (after_head.size() < framing.length) return std::nullopt;
  return framing.length;
}

}  // namespace

std::size_t request_length(std::string_view bytes) {
  const std::size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  const std::size_t head_length = head_end + 4;
  const auto body = body_length(bytes.substr(0, head_length), bytes.substr(head_length));
  return body ? head_length + *body : 0;
}

struct ScriptedBackend::Connection {
  int fd = -1;
  std::thread thread;
  std::atomic<bool> done{false};
  bool joined = false;   // the thread was reaped (the record stays for received())
  std::string received;  // everything, under the backend's mutex
  std::string pending;   // received and not yet taken by a read step
  std::string last_head;
};

ScriptedBackend::ScriptedBackend(Script script) : ScriptedBackend(std::move(script), nullptr, "127.0.0.1:0") {}
ScriptedBackend::ScriptedBackend(Responder responder, const std::string& address)
    : ScriptedBackend({}, std::move(responder), address) {}

ScriptedBackend::ScriptedBackend(Script script, Responder responder, const std::string& address)
    : script_(std::move(script)), responder_(std::move(responder)) {
  std::string error;
  auto fd = net::bind_listener(*net::Address::parse_numeric(address), 4096, &error);
  if (!fd) throw std::runtime_error("scripted backend: " + error);
  address_ = net::Address::local_of(fd.get()).to_string();
  if (pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
  acceptor_ = std::thread([this, listen_fd = fd.release()] { accept_loop(listen_fd); });
}

ScriptedBackend::~ScriptedBackend() {
  stop();
  for (auto* c : connections_) delete c;
}

void ScriptedBackend::stop() {
  if (!acceptor_.joinable()) return;
  char byte = 1;
  [[maybe_unused]] auto n = write(stop_pipe_[1], &byte, 1);
  acceptor_.join();
  std::vector<Connection*> connections;
  {
    std::lock_guard lock(mutex_);
    connections = connections_;
  }
  for (auto* c : connections) {
    if (!c->joined) c->thread.join();  // each thread polls the stop pipe, and closes its socket
    c->joined = true;
  }
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

std::vector<std::string> ScriptedBackend::received() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(connections_.size());
  for (const auto* c : connections_) out.push_back(c->received);
  return out;
}

void ScriptedBackend::accept_loop(int listen_fd) {
  for (;;) {
    pollfd polls[2] = {{stop_pipe_[0], POLLIN, 0}, {listen_fd, POLLIN, 0}};
    if (poll(polls, 2, 1000) < 0 && errno != EINTR) break;
    if (polls[0].revents) break;
    if (!(polls[1].revents & POLLIN)) continue;
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    auto* connection = new Connection;
    connection->fd = fd;
    std::lock_guard lock(mutex_);
    // Reap the threads that ended, so that a matrix of many connections does not pile them up.
    for (auto* c : connections_) {
      if (!c->joined && c->done.load()) {
        c->thread.join();
        c->joined = true;
      }
    }
    connections_.push_back(connection);
    connection->thread = std::thread([this, connection] { serve(*connection); });
  }
  close(listen_fd);
}

namespace {

constexpr auto kCloseDrainLimit = std::chrono::seconds(2);

// Blocking I/O on one connection, given up when the stop pipe becomes readable.
class Io {
 public:
  Io(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {}

  // Waits up to `timeout_ms` (-1: forever) for `events`; false on stop or timeout.
  bool wait(short events, int timeout_ms) {
    pollfd polls[2] = {{stop_fd_, POLLIN, 0}, {fd_, events, 0}};
    for (;;) {
      const int n = poll(polls, 2, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      return n > 0 && !polls[0].revents && polls[1].revents;
    }
  }
  // Reads what is there into `out`: >0 bytes read, 0 EOF, -1 error/stop/timeout.
  ssize_t read_some(std::string& out, int timeout_ms = -1) {
    if (!wait(POLLIN, timeout_ms)) return -1;
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) out.append(chunk, static_cast<std::size_t>(n));
    return n < 0 ? -1 : n;
  }
  bool write_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait(POLLOUT, -1)) return false;
      } else {
        return false;
      }
    }
    return true;
  }
  // Sleeps `d` unless the backend stops first (then false).
  bool pause(std::chrono::milliseconds d) {
    pollfd stop{stop_fd_, POLLIN, 0};
    return poll(&stop, 1, static_cast<int>(d.count())) == 0;
  }

 private:
  int fd_;
  int stop_fd_;
};

}  // namespace

void ScriptedBackend::serve(Connection& connection) {
  Io io(connection.fd, stop_pipe_[0]);
  // Reads more into `pending` (and the record); false when the connection ended.
  auto read_more = [&](int timeout_ms = -1) {
    std::string got;
    if (io.read_some(got, timeout_ms) <= 0) return false;
    bytes_.fetch_add(got.size());
    {
      std::lock_guard lock(mutex_);
      connection.received += got;
    }
    connection.pending += got;
    return true;
  };
  auto take = [&](std::size_t n) {
    std::string out = connection.pending.substr(0, n);
    connection.pending.erase(0, n);
    return out;
  };
  auto read_head = [&]() -> std::optional<std::string> {
    std::size_t end;
    while ((end = connection.pending.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) return std::nullopt;
    }
    connection.last_head = take(end + 4);
    return connection.last_head;
  };
  auto read_body = [&]() -> std::optional<std::string> {
    std::optional<std::size_t> n;
    while (!(n = body_length(connection.last_head, connection.pending))) {
      if (!read_more()) return std::nullopt;
    }
    requests_.fetch_add(1);
    return take(*n);
  };
  auto drain = [&](int timeout_ms) {
    connection.pending.clear();
    while (read_more(timeout_ms)) connection.pending.clear();
  };
  bool closed = false;
  auto close_fd = [&] {
    std::lock_guard lock(mutex_);
    ::close(connection.fd);
    connection.fd = -1;
    closed = true;
  };

  // Plays `script`; false when the connection ended (by the script or the peer).
  auto play = [&](const Script& script) {
    for (const Step& step : script) {
      switch (step.kind) {
        case Step::Kind::ReadHead:
          if (!read_head()) return false;
          break;
        case Step::Kind::ReadBody:
          if (!read_body()) return false;
          break;
        case Step::Kind::ReadRequest:
          if (!read_head() || !read_body()) return false;
          break;
        case Step::Kind::ReadBytes:
          while (connection.pending.size() < step.count) {
            if (!read_more()) return false;
          }
          take(step.count);
          break;
        case Step::Kind::Send:
          if (!io.write_all(step.bytes)) return false;
          break;
        case Step::Kind::Pause:
          if (!io.pause(step.duration)) return false;
          break;
        case Step::Kind::ShutdownWrite:
          ::shutdown(connection.fd, SHUT_WR);
          break;
        case Step::Kind::Close:
          ::shutdown(connection.fd, SHUT_WR);
          drain(static_cast<int>(std::chrono::milliseconds(kCloseDrainLimit).count()));
          close_fd();
          return false;
        case Step::Kind::Reset:
          net::set_abortive_close(connection.fd);
          close_fd();
          return false;
        case Step::Kind::Stall:
          drain(-1);
          return false;
        case Step::Kind::Echo:
          for (;;) {
            if (!connection.pending.empty() && !io.write_all(take(connection.pending.size()))) return false;
            if (!read_more()) break;
          }
          ::shutdown(connection.fd, SHUT_WR);
          drain(-1);
          return false;
      }
    }
    return true;
  };

  if (responder_) {
    for (;;) {
      const auto head = read_head();
      if (!head) break;
      const auto body = read_body();
      if (!body) break;
      if (!play(responder_(*head + *body))) break;
    }
  } else if (play(script_)) {
    drain(-1);
  }
  if (!closed) close_fd();
  ended_.fetch_add(1);
  connection.done.store(true);
}

}  // namespace fulcrum::test
