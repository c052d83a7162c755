#include "support/hostile_io.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "net/address.h"

namespace fulcrum::test {

std::size_t Prng::pick(std::initializer_list<unsigned> weights) {
  std::uint64_t total = 0;
  for (unsigned w : weights) total += w;
  std::uint64_t r = below(total);
  std::size_t i = 0;
  for (unsigned w : weights) {
    if (r < w) return i;
    r -= w;
    ++i;
  }
  return weights.size() - 1;
}

std::string Prng::bytes(std::size_t size) {
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(next());
  return out;
}

bool wait_ready(int fd, short events, int timeout_ms, int stop_fd) {
  pollfd p[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  const int count = stop_fd >= 0 ? 2 : 1;
  for (;;) {
    const int n = poll(p, count, timeout_ms < 0 ? 0 : timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (count == 2 && p[1].revents) return false;
    return p[0].revents != 0;
  }
}

namespace {
using Clock = std::chrono::steady_clock;
int left_ms(Clock::time_point deadline) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}
}  // namespace

bool write_all(int fd, std::string_view data, int timeout_ms, int stop_fd) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    const int left = left_ms(deadline);
    if (left <= 0 || !wait_ready(fd, POLLOUT, left, stop_fd)) return false;
  }
  return true;
}

std::string read_some(int fd, int idle_ms, std::size_t limit, bool* eof, int stop_fd) {
  std::string kept;
  char buffer[16384];
  if (eof) *eof = false;
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      const std::size_t take = std::min<std::size_t>(static_cast<std::size_t>(n), limit - std::min(limit, kept.size()));
      kept.append(buffer, take);
      continue;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      if (eof) *eof = true;
      return kept;
    }
    if (n < 0 && errno == EINTR) continue;
    if (!wait_ready(fd, POLLIN, idle_ms, stop_fd)) return kept;
  }
}

void close_with_reset(int fd) {
  linger option{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  close(fd);
}

int connect_to(const std::string& address, int timeout_ms) {
  auto parsed = net::Address::parse_numeric(address);
  if (!parsed) return -1;
  const int fd = ::socket(parsed->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, parsed->data(), parsed->size()) != 0) {
    int error = errno;
    if (error == EINPROGRESS) {
      socklen_t length = sizeof error;
      error = wait_ready(fd, POLLOUT, timeout_ms) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0
                  ? error
                  : ETIMEDOUT;
    }
    if (error != 0) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace fulcrum::test
