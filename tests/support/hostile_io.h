// Small pieces shared by the hostile traffic generator and the hostile backend: a seeded PRNG
// (reproducible choices) and blocking socket I/O bounded by a timeout and a stop descriptor.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace fulcrum::test {

/// splitmix64: tiny, fast, and good enough to pick mutations; the same seed gives the same choices.
class Prng {
 public:
  explicit Prng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); 0 when n is 0.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  /// Uniform in [low, high].
  std::uint64_t between(std::uint64_t low, std::uint64_t high) { return low + below(high - low + 1); }
  bool chance(unsigned percent) { return below(100) < percent; }
  /// An index into `weights`, each drawn in proportion to its weight.
  std::size_t pick(std::initializer_list<unsigned> weights);
  /// `size` random bytes.
  std::string bytes(std::size_t size);

 private:
  std::uint64_t state_;
};

/// Waits until `fd` has `events` (POLLIN, POLLOUT) or `timeout_ms` passes or `stop_fd` (if not -1)
/// becomes readable. True only when `fd` is ready.
bool wait_ready(int fd, short events, int timeout_ms, int stop_fd = -1);
/// Writes all of `data` to a non-blocking socket within `timeout_ms` (MSG_NOSIGNAL). False on an
/// error, a timeout or a stop.
bool write_all(int fd, std::string_view data, int timeout_ms, int stop_fd = -1);
/// Reads what arrives until EOF, an error, or nothing came for `idle_ms`, at most `limit` bytes
/// kept (the rest is read and dropped). Returns the bytes kept; `eof` says whether the peer closed.
std::string read_some(int fd, int idle_ms, std::size_t limit, bool* eof = nullptr, int stop_fd = -1);
/// Closes `fd` with SO_LINGER 0: the peer gets RST instead of FIN.
void close_with_reset(int fd);
/// A non-blocking TCP connection to `host:port` within `timeout_ms`, or -1.
int connect_to(const std::string& address, int timeout_ms);

}  // namespace fulcrum::test
