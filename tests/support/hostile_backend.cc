#include "support/hostile_backend.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "net/address.h"
#include "support/hostile_io.h"

namespace fulcrum::test {

namespace {

constexpr int kIdleMs = 3000;        // a connection with nothing to read for this long is closed
constexpr int kWriteMs = 3000;       // the longest a write may wait for room
constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxBody = 4 * 1024 * 1024;
constexpr std::size_t kBigBody = 1024 * 1024;  // GET /big

void pause_ms(std::uint64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

/// Bytes of one connection, read with the stop pipe and the idle limit in mind.
class Reader {
 public:
  Reader(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {}
  std::string& buffer() { return buffer_; }
  /// Reads more; false on EOF, error, idle limit or stop.
  bool more() {
    if (!wait_ready(fd_, POLLIN, kIdleMs, stop_fd_)) return false;
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
  }
  /// Everything up to and including `delimiter` (taken from the buffer), or nullopt.
  std::optional<std::string> until(std::string_view delimiter, std::size_t limit) {
    for (;;) {
      const auto at = buffer_.find(delimiter);
      if (at != std::string::npos) {
        std::string line = buffer_.substr(0, at + delimiter.size());
        buffer_.erase(0, at + delimiter.size());
        return line;
      }
      if (buffer_.size() > limit || !more()) return std::nullopt;
    }
  }
  bool skip(std::size_t n) {
    while (buffer_.size() < n) {
      if (!more()) return false;
    }
    buffer_.erase(0, n);
    return true;
  }

 private:
  int fd_;
  int stop_fd_;
  std::string buffer_;
};

struct Head {
  std::string method, target;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool upgrade = false;
  bool calm = false;  // X-Hostile: off
  bool expect_continue = false;
};

Head parse_head(const std::string& text) {
  Head head;
  const auto line_end = text.find("\r\n");
  const std::string line = text.substr(0, line_end);
  const auto space = line.find(' ');
  head.method = line.substr(0, space);
  if (space != std::string::npos) head.target = line.substr(space + 1, line.find(' ', space + 1) - space - 1);
  std::size_t at = line_end + 2;
  while (at < text.size()) {
    const auto end = text.find("\r\n", at);
    if (end == std::string::npos || end == at) break;
    const std::string field = text.substr(at, end - at);
    at = end + 2;
    const auto colon = field.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = field.substr(0, colon);
    std::string value = field.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    auto is = [&](const char* n) { return strcasecmp(name.c_str(), n) == 0; };
    if (is("content-length")) head.content_length = std::strtoull(value.c_str(), nullptr, 10);
    if (is("transfer-encoding") && strcasestr(value.c_str(), "chunked")) head.chunked = true;
    if (is("upgrade")) head.upgrade = true;
    if (is("x-hostile") && value == "off") head.calm = true;
    if (is("expect") && strcasecmp(value.c_str(), "100-continue") == 0) head.expect_continue = true;
  }
  return head;
}

/// Reads (and drops) the request body; false when it cannot be read whole.
bool skip_body(Reader& reader, const Head& head) {
  if (head.chunked) {
    for (;;) {
      const auto line = reader.until("\r\n", 1024);
      if (!line) return false;
      const std::uint64_t size = std::strtoull(line->c_str(), nullptr, 16);
      if (size > kMaxBody) return false;
      if (size == 0) {
        for (;;) {  // trailers up to the empty line
          const auto trailer = reader.until("\r\n", 8192);
          if (!trailer) return false;
          if (*trailer == "\r\n") return true;
        }
      }
      if (!reader.skip(size + 2)) return false;
    }
  }
  const std::uint64_t length = head.content_length.value_or(0);
  return length <= kMaxBody && reader.skip(length);
}

std::string normal_answer(Prng& random, const Head& head, bool close) {
  std::size_t size = head.target == "/big" ? kBigBody : random.below(2048);
  if (head.calm) size = 0;
  std::string body = head.calm ? "calm\n" : std::string(size, 'x');
  std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) answer += "Connection: close\r\n";
  answer += "\r\n";
  if (head.method != "HEAD") answer += body;
  return answer;
}

std::string chunked_answer(Prng& random) {
  std::string answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto chunks = random.between(1, 4);
  for (std::uint64_t i = 0; i < chunks; ++i) {
    const auto size = random.between(1, 700);
    char line[32];
    std::snprintf(line, sizeof line, "%llx\r\n", static_cast<unsigned long long>(size));
    answer += line + std::string(size, 'c') + "\r\n";
  }
  return answer + "0\r\n\r\n";
}

/// Writes `data` in 2..4 pieces with short pauses between them.
bool write_in_pieces(int fd, std::string_view data, Prng& random, int stop_fd) {
  const auto pieces = random.between(2, 4);
  for (std::uint64_t i = 0; i < pieces && !data.empty(); ++i) {
    const std::size_t n = i + 1 == pieces ? data.size() : std::min<std::size_t>(data.size(), random.between(1, 40));
    if (!write_all(fd, data.substr(0, n), kWriteMs, stop_fd)) return false;
    data.remove_prefix(n);
    pause_ms(random.between(1, 15));
  }
  return write_all(fd, data, kWriteMs, stop_fd);
}

/// Echoes until EOF (then half-closes) or, with `reset_after` reads, resets.
void echo(int fd, Reader& reader, int stop_fd, std::optional<std::uint64_t> reset_after) {
  std::uint64_t reads = 0;
  for (;;) {
    if (!reader.buffer().empty()) {
      if (!write_all(fd, reader.buffer(), kWriteMs, stop_fd)) return;
      reader.buffer().clear();
      if (reset_after && ++reads >= *reset_after) {
        linger option{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
        return;
      }
    }
    if (!reader.more()) break;
  }
  shutdown(fd, SHUT_WR);
}

}  // namespace

HostileBackend::HostileBackend(Mode mode, std::uint64_t seed, Options options)
    : mode_(mode), seed_(seed), options_(options) {
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 1024) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("hostile backend: cannot listen");
  }
  address_ = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  acceptor_ = std::thread([this] { accept_loop(); });
}

HostileBackend::~HostileBackend() {
  stop();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void HostileBackend::stop() {
  if (!acceptor_.joinable()) return;
  [[maybe_unused]] auto n = write(stop_pipe_[1], "x", 1);
  acceptor_.join();
  close(listen_fd_);
  listen_fd_ = -1;
  std::unique_lock lock(mutex_);
  all_done_.wait(lock, [&] { return live_ == 0; });
}

void HostileBackend::accept_loop() {
  std::uint64_t index = 0;
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents) return;
    if (!p[0].revents) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) pause_ms(10);
      continue;
    }
    connections_.fetch_add(1);
    {
      std::lock_guard lock(mutex_);
      ++live_;
    }
    // Detached: each thread counts itself out, and stop() waits for the count to reach zero.
    std::thread([this, fd, seed = seed_ * 0x100000001b3ULL + ++index] {
      serve(fd, seed);
      std::lock_guard lock(mutex_);
      if (--live_ == 0) all_done_.notify_all();
    }).detach();
  }
}

void HostileBackend::serve(int fd, std::uint64_t seed) {
  if (mode_ == Mode::Http) {
    serve_http(fd, seed);
  } else {
    serve_raw(fd, seed);
  }
}

void HostileBackend::serve_http(int fd, std::uint64_t seed) {
  Prng random(seed);
  const int stop_fd = stop_pipe_[0];
  Reader reader(fd, stop_fd);
  for (;;) {
    const auto text = reader.until("\r\n\r\n", kMaxHead);
    if (!text) break;
    const Head head = parse_head(*text);
    requests_.fetch_add(1);
    if (head.expect_continue && !write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", kWriteMs, stop_fd)) break;
    if (!skip_body(reader, head)) break;
    if (head.calm) {
      if (!write_all(fd, normal_answer(random, head, false), kWriteMs, stop_fd)) break;
      continue;
    }
    if (head.upgrade && (!options_.misbehave || random.chance(70))) {
      if (!write_all(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                     kWriteMs, stop_fd)) {
        break;
      }
      std::optional<std::uint64_t> reset_after;
      if (options_.misbehave && random.chance(30)) reset_after = random.between(1, 3);
      echo(fd, reader, stop_fd, reset_after);
      break;
    }
    if (!options_.misbehave) {
      if (!write_all(fd, normal_answer(random, head, false), kWriteMs, stop_fd)) break;
      continue;
    }
    enum { Normal, Delay, CloseFirst, Reset, Garbage, HeadInPieces, Interim, CloseMidBody, Chunked,
           ChunkedInPieces, UntilClose, CloseAfter };
    const unsigned split = options_.split_heads ? 6 : 0;
    const auto behaviour = random.pick({40, 8, 5, 5, 4, split, 6, 5, 6, 4, 3, 3});
    bool keep = true;
    switch (behaviour) {
      case Normal:
        keep = write_all(fd, normal_answer(random, head, false), kWriteMs, stop_fd);
        break;
      case Delay:
        pause_ms(random.between(5, 250));
        keep = write_all(fd, normal_answer(random, head, false), kWriteMs, stop_fd);
        break;
      case CloseFirst:
        keep = false;
        break;
      case Reset:
        close_with_reset(fd);
        return;
      case Garbage:
        write_all(fd, random.chance(50) ? "HTTP/1.1 2" + random.bytes(random.between(1, 300)) : random.bytes(random.between(1, 2000)),
                  kWriteMs, stop_fd);
        keep = false;
        break;
      case HeadInPieces:
        keep = write_in_pieces(fd, normal_answer(random, head, false), random, stop_fd);
        break;
      case Interim:
        keep = write_all(fd, random.chance(50) ? "HTTP/1.1 100 Continue\r\n\r\n" : "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
                         kWriteMs, stop_fd);
        if (!keep) break;
        pause_ms(random.below(20));
        keep = write_all(fd, normal_answer(random, head, false), kWriteMs, stop_fd);
        break;
      case CloseMidBody: {
        const std::string body(1000, 'm');
        const std::string head_text = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        write_all(fd, head_text + body.substr(0, random.below(1000)), kWriteMs, stop_fd);
        if (random.chance(50)) {
          close_with_reset(fd);
          return;
        }
        keep = false;
        break;
      }
      case Chunked:
        keep = write_all(fd, chunked_answer(random), kWriteMs, stop_fd);
        break;
      case ChunkedInPieces: {
        // The head whole, the chunks in pieces.
        const std::string answer = chunked_answer(random);
        const std::size_t body = answer.find("\r\n\r\n") + 4;
        keep = write_all(fd, std::string_view(answer).substr(0, body), kWriteMs, stop_fd) &&
               write_in_pieces(fd, std::string_view(answer).substr(body), random, stop_fd);
        break;
      }
      case UntilClose:
        write_all(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(random.below(3000), 'u'), kWriteMs,
                  stop_fd);
        keep = false;
        break;
      case CloseAfter:
        write_all(fd, normal_answer(random, head, true), kWriteMs, stop_fd);
        keep = false;
        break;
    }
    if (!keep) break;
  }
  close(fd);
}

void HostileBackend::serve_raw(int fd, std::uint64_t seed) {
  Prng random(seed);
  const int stop_fd = stop_pipe_[0];
  Reader reader(fd, stop_fd);
  // The first bytes decide whether this is a check that needs an echo (`calm\n`).
  reader.more();
  if (reader.buffer().starts_with("calm\n") || !options_.misbehave) {
    echo(fd, reader, stop_fd, std::nullopt);
    close(fd);
    return;
  }
  requests_.fetch_add(1);
  enum { Echo, EchoThenReset, CloseAtOnce, ResetAtOnce, Garbage, HalfCloseFirst, SlowEcho };
  switch (random.pick({40, 15, 10, 10, 10, 10, 5})) {
    case Echo:
      echo(fd, reader, stop_fd, std::nullopt);
      break;
    case EchoThenReset:
      echo(fd, reader, stop_fd, random.between(1, 4));
      break;
    case CloseAtOnce:
      break;
    case ResetAtOnce:
      close_with_reset(fd);
      return;
    case Garbage:
      write_all(fd, random.bytes(random.between(1, 64 * 1024)), kWriteMs, stop_fd);
      break;
    case HalfCloseFirst:
      shutdown(fd, SHUT_WR);
      while (reader.more()) reader.buffer().clear();
      break;
    case SlowEcho:
      pause_ms(random.between(10, 300));
      echo(fd, reader, stop_fd, std::nullopt);
      break;
  }
  close(fd);
}

}  // namespace fulcrum::test
