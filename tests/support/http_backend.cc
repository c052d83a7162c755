#include "support/http_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::test {

// ------------------------------------------------------------------------------ pattern, checksum

namespace {
std::uint64_t pattern_word(std::uint64_t index) {
  // splitmix64 of the word index: every 8-byte word differs from its neighbours.
  std::uint64_t z = index + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

void fill_pattern(char* out, std::size_t size, std::uint64_t offset) {
  std::size_t i = 0;
  while (i < size) {
    const std::uint64_t position = offset + i;
    const std::uint64_t word = pattern_word(position >> 3);
    const unsigned shift = static_cast<unsigned>(position & 7);
    if (shift == 0 && size - i >= 8) {
      std::memcpy(out + i, &word, 8);
      i += 8;
    } else {
      out[i] = static_cast<char>(reinterpret_cast<const unsigned char*>(&word)[shift]);
      ++i;
    }
  }
}

void Checksum::update(std::string_view bytes) {
  size_ += bytes.size();
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  while (pending_size_ > 0 && pending_size_ < sizeof pending_ && n > 0) {
    pending_[pending_size_++] = *data++;
    --n;
    if (pending_size_ == 8) {
      std::uint64_t word;
      std::memcpy(&word, pending_, 8);
      mix(word);
      pending_size_ = 0;
    }
  }
  for (; n >= 8; n -= 8, data += 8) {
    std::uint64_t word;
    std::memcpy(&word, data, 8);
    mix(word);
  }
  for (; n > 0; --n) pending_[pending_size_++] = *data++;
}

std::uint64_t Checksum::value() const {
  Checksum copy = *this;
  std::uint64_t word = 0;
  std::memcpy(&word, copy.pending_, copy.pending_size_);
  copy.mix(word);
  copy.mix(size_);
  return copy.state_;
}

std::string Checksum::hex() const {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value()));
  return text;
}

std::string pattern_checksum(std::uint64_t size) {
  Checksum checksum;
  std::string block(1 << 20, '\0');
  for (std::uint64_t offset = 0; offset < size; offset += block.size()) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - offset));
    fill_pattern(block.data(), n, offset);
    checksum.update({block.data(), n});
  }
  return checksum.hex();
}

// --------------------------------------------------------------------------------- the backend

struct HttpBackend::Connection {
  int fd = -1;
  std::thread thread;
  std::atomic<bool> done{false};
};

namespace {

struct Request {
  std::string head;  // as received, up to and including the empty line
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> fields;

  std::optional<std::string> field(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n.size() == name.size() &&
          std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return v;
    }
    return std::nullopt;
  }
  bool field_has_token(std::string_view name, std::string_view token) const {
    for (const auto& [n, v] : fields) {
      if (!strcasecmp(n.c_str(), std::string(name).c_str())) {
        std::string lower = v;
        for (auto& c : lower) c = static_cast<char>(std::tolower(c));
        if (lower.find(token) != std::string::npos) return true;
      }
    }
    return false;
  }
};

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Parses a head ending in CRLF CRLF; nullopt if it is not strictly valid HTTP/1.x.
std::optional<Request> parse_head(std::string head) {
  Request request;
  request.head = std::move(head);
  std::string_view rest = request.head;
  auto line_end = rest.find("\r\n");
  std::string_view line = rest.substr(0, line_end);
  rest.remove_prefix(line_end + 2);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return std::nullopt;
  request.method = line.substr(0, sp1);
  request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  request.version = line.substr(sp2 + 1);
  if (request.version != "HTTP/1.1" && request.version != "HTTP/1.0") return std::nullopt;
  while (true) {
    line_end = rest.find("\r\n");
    if (line_end == 0 || line_end == std::string_view::npos) break;
    line = rest.substr(0, line_end);
    rest.remove_prefix(line_end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t' ||
        line[colon - 1] == ' ' || line[colon - 1] == '\t')
      return std::nullopt;
    for (char c : line) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
    }
    request.fields.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return request;
}

}  // namespace

HttpBackend::HttpBackend(std::string name, std::string address) : name_(std::move(name)), address_(std::move(address)) {
  start();
}

HttpBackend::~HttpBackend() { stop(); }

void HttpBackend::start() {
  if (acceptor_.joinable()) return;
  auto parsed = net::Address::parse_numeric(address_);
  std::string error;
  auto fd = net::bind_listener(*parsed, 4096, &error);
  if (!fd) throw std::runtime_error("http backend: " + error);
  address_ = net::Address::local_of(fd.get()).to_string();
  if (pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
  acceptor_ = std::thread([this, listen_fd = fd.release()] { accept_loop(listen_fd); });
}

void HttpBackend::stop() {
  if (!acceptor_.joinable()) return;
  char byte = 1;
  [[maybe_unused]] auto n = write(stop_pipe_[1], &byte, 1);
  acceptor_.join();
  std::vector<Connection*> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (auto* c : connections) {
    ::shutdown(c->fd, SHUT_RDWR);  // wakes a blocked thread; the stop pipe does the rest
    c->thread.join();
    ::close(c->fd);
    delete c;
  }
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

std::vector<std::string> HttpBackend::received_heads() const {
  std::lock_guard lock(mutex_);
  return heads_log_;
}

std::size_t HttpBackend::heads_containing(std::string_view needle) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(heads_log_.begin(), heads_log_.end(), [&](const std::string& head) {
    return head.find(needle) != std::string::npos;
  }));
}

void HttpBackend::accept_loop(int listen_fd) {
  for (;;) {
    pollfd polls[2] = {{stop_pipe_[0], POLLIN, 0}, {listen_fd, POLLIN, 0}};
    if (poll(polls, 2, 1000) < 0 && errno != EINTR) break;
    if (polls[0].revents) break;
    if (!(polls[1].revents & POLLIN)) continue;
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    open_.fetch_add(1);
    auto* connection = new Connection;
    connection->fd = fd;
    std::lock_guard lock(mutex_);
    // Reap the connections that ended, so that a long test does not accumulate threads.
    std::erase_if(connections_, [](Connection* c) {
      if (!c->done.load()) return false;
      c->thread.join();
      ::close(c->fd);
      delete c;
      return true;
    });
    connections_.push_back(connection);
    connection->thread = std::thread([this, connection] { serve(connection); });
  }
  close(listen_fd);
}

namespace {

// Blocking I/O on one connection, abandoned when the stop pipe becomes readable.
class Io {
 public:
  Io(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {}

  // Appends what arrives to `buffer`; false on EOF, error or stop.
  bool read_more(std::string& buffer, std::atomic<std::uint64_t>& counter) {
    if (!wait(POLLIN, -1)) return false;
    char chunk[65536];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    counter.fetch_add(static_cast<std::uint64_t>(n));
    return true;
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
  // Sleeps `ms`, or returns false early when stopped.
  bool sleep(std::int64_t ms) {
    pollfd p{stop_fd_, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(ms)) == 0;
  }
  bool stopped() {
    pollfd p{stop_fd_, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }

 private:
  bool wait(short events, int timeout_ms) {
    pollfd polls[2] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      const int r = poll(polls, 2, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || polls[1].revents) return false;
      return true;
    }
  }
  int fd_;
  int stop_fd_;
};

// Feeds the next `size` body bytes (from `buffer`, then the socket) to `checksum`; false if cut.
bool checksum_bytes(Io& io, std::string& buffer, std::uint64_t size, Checksum& checksum,
                    std::atomic<std::uint64_t>& counter) {
  while (size > 0) {
    if (buffer.empty() && !io.read_more(buffer, counter)) return false;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, buffer.size()));
    checksum.update({buffer.data(), n});
    buffer.erase(0, n);
    size -= n;
  }
  return true;
}

// Reads a request body from `buffer` (+ the socket) according to the head; false when the body is
// cut or malformed. Leaves the bytes after the body in `buffer`.
bool read_body(Io& io, std::string& buffer, const Request& request, Checksum& checksum,
               std::atomic<std::uint64_t>& counter) {
  const auto te = request.field("Transfer-Encoding");
  const auto cl = request.field("Content-Length");
  if (te) {
    if (!request.field_has_token("Transfer-Encoding", "chunked")) return false;
    for (;;) {
      std::size_t line_end;
      while ((line_end = buffer.find("\r\n")) == std::string::npos) {
        if (buffer.size() > 4096 || !io.read_more(buffer, counter)) return false;
      }
      const std::string size_text = buffer.substr(0, std::min(line_end, buffer.find(';')));
      if (size_text.empty() || size_text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return false;
      const std::uint64_t size = std::stoull(size_text, nullptr, 16);
      buffer.erase(0, line_end + 2);
      if (size == 0) {
        // Trailers, then the empty line.
        for (;;) {
          while ((line_end = buffer.find("\r\n")) == std::string::npos) {
            if (buffer.size() > 8192 || !io.read_more(buffer, counter)) return false;
          }
          buffer.erase(0, line_end + 2);
          if (line_end == 0) return true;
        }
      }
      if (!checksum_bytes(io, buffer, size, checksum, counter)) return false;
      while (buffer.size() < 2) {
        if (!io.read_more(buffer, counter)) return false;
      }
      if (buffer.compare(0, 2, "\r\n") != 0) return false;
      buffer.erase(0, 2);
    }
  }
  if (cl) {
    if (cl->empty() || cl->find_first_not_of("0123456789") != std::string::npos) return false;
    if (!checksum_bytes(io, buffer, std::stoull(*cl), checksum, counter)) return false;
  }
  return true;
}

bool stream_body(Io& io, std::uint64_t size, bool chunked) {
  std::string block(1 << 16, '\0');
  for (std::uint64_t offset = 0; offset < size; offset += block.size()) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - offset));
    fill_pattern(block.data(), n, offset);
    if (chunked) {
      char size_line[32];
      std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
      if (!io.write_all(size_line)) return false;
    }
    if (!io.write_all({block.data(), n})) return false;
    if (chunked && !io.write_all("\r\n")) return false;
  }
  return !chunked || io.write_all("0\r\n\r\n");
}

}  // namespace

void HttpBackend::serve(Connection* connection) {
  Io io(connection->fd, stop_pipe_[0]);
  std::string buffer;
  for (;;) {
    // The head.
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > (1 << 20) || !io.read_more(buffer, bytes_)) {
        open_.fetch_sub(1);
        connection->done.store(true);
        return;
      }
    }
    auto request = parse_head(buffer.substr(0, head_end + 4));
    buffer.erase(0, head_end + 4);
    if (!request) {
      io.write_all("HTTP/1.1 400 Bad Request\r\nContent-Length: 23\r\nConnection: close\r\n\r\nbackend: invalid head\r\n");
      ::shutdown(connection->fd, SHUT_WR);
      break;
    }
    heads_.fetch_add(1);
    {
      std::lock_guard lock(mutex_);
      heads_log_.push_back(request->head);
    }
    // In flight from its head until its answer starts (not until the answer is read: the proxy
    // may send the next request as soon as it has this one's answer).
    struct InFlight {
      std::atomic<std::int64_t>& count;
      bool counted = true;
      InFlight(std::atomic<std::int64_t>& in_flight, std::atomic<std::int64_t>& max) : count(in_flight) {
        const std::int64_t now = count.fetch_add(1) + 1;
        std::int64_t seen = max.load();
        while (now > seen && !max.compare_exchange_weak(seen, now)) {
        }
      }
      void end() {
        if (counted) count.fetch_sub(1);
        counted = false;
      }
      ~InFlight() { end(); }
    } in_flight(in_flight_, max_in_flight_);
    const Behaviour behaviour = behaviour_.load();
    const std::string action = request->field("X-Test").value_or("");
    const bool http10 = request->version == "HTTP/1.0";
    bool keep_alive = http10 ? request->field_has_token("Connection", "keep-alive")
                             : !request->field_has_token("Connection", "close");

    if (behaviour == Behaviour::CloseBeforeAnswer || action == "close") break;
    if (request->field("Expect") && request->field_has_token("Expect", "100-continue") && !http10) {
      if (!io.write_all("HTTP/1.1 100 Continue\r\n\r\n")) break;
    }
    Checksum checksum;
    if (!read_body(io, buffer, *request, checksum, bytes_)) {
      incomplete_.fetch_add(1);
      break;
    }
    requests_.fetch_add(1);

    if (behaviour == Behaviour::Hang || action == "hang") {
      while (io.sleep(1000)) {
      }
      break;
    }
    std::int64_t delay = delay_ms_.load();
    if (action.rfind("delay=", 0) == 0) delay += std::stoll(action.substr(6));
    if (delay > 0 && !io.sleep(delay)) break;
    if (behaviour == Behaviour::Invalid || action == "invalid") {
      io.write_all("this is not HTTP\r\n\r\n");
      break;
    }

    if (request->field_has_token("Upgrade", "websocket") && request->field_has_token("Connection", "upgrade")) {
      if (!io.write_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Backend: " +
                        name_ + "\r\n\r\n"))
        break;
      // Raw echo until the peer's FIN, which is passed back.
      for (;;) {
        if (!buffer.empty()) {
          if (!io.write_all(buffer)) break;
          buffer.clear();
        }
        if (!io.read_more(buffer, bytes_)) break;
      }
      ::shutdown(connection->fd, SHUT_WR);
      break;
    }

    std::string head = "HTTP/1.1 200 OK\r\nX-Backend: " + name_ + "\r\n";
    const bool chunked_stream = action.rfind("stream-chunked=", 0) == 0;
    const bool length_stream = action.rfind("stream-length=", 0) == 0;
    if (chunked_stream || length_stream) {
      const std::uint64_t size = std::stoull(action.substr(action.find('=') + 1));
      const bool chunked = chunked_stream && !http10;
      if (chunked) {
        head += "Transfer-Encoding: chunked\r\n";
      } else if (length_stream) {
        head += "Content-Length: " + std::to_string(size) + "\r\n";
      } else {
        keep_alive = false;  // HTTP/1.0 without a length: the close ends the body
      }
      head += keep_alive ? (http10 ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n";
      head += "\r\n";
      in_flight.end();
      if (!io.write_all(head)) break;
      if (request->method != "HEAD" && !stream_body(io, size, chunked)) break;
    } else {
      const std::string body = "backend=" + name_ + "\nbody-length=" + std::to_string(checksum.size()) +
                               "\nbody-checksum=" + checksum.hex() + "\n\n" + request->head;
      head += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
      head += keep_alive ? (http10 ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n";
      head += "\r\n";
      in_flight.end();
      if (!io.write_all(request->method == "HEAD" ? head : head + body)) break;  // HEAD: the length, no body
    }
    if (!keep_alive) {
      ::shutdown(connection->fd, SHUT_WR);
      // Read until the peer closes, so that the close is clean (no RST over unread bytes).
      while (io.read_more(buffer, bytes_)) buffer.clear();
      break;
    }
  }
  ::shutdown(connection->fd, SHUT_RDWR);
  open_.fetch_sub(1);
  connection->done.store(true);
}

}  // namespace fulcrum::test
