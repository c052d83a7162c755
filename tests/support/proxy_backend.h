// A backend for PROXY protocol tests: every connection must begin with a v1 or v2 header (read
// with Fulcrum's own parser, net/proxy_protocol.h); a connection without one is closed and counted.
// After the header it tells what the header said, `v1 client=203.0.113.7:40000
// dst=192.0.2.1:443` (or `v2 local` for a header that carries no client):
//   Mode::Echo: as a line, then echoes every byte (a tcp pool's backend);
//   Mode::Http: as the body of a `200` answer to each request, with the request's
//               X-Forwarded-For (`... xff=203.0.113.7`); answers with Connection: close.
// One thread per connection, blocking sockets with timeouts; joined on destruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fulcrum::test {

class ProxyBackend {
 public:
  enum class Mode { Echo, Http };
  explicit ProxyBackend(Mode mode);
  ~ProxyBackend();
  ProxyBackend(const ProxyBackend&) = delete;
  ProxyBackend& operator=(const ProxyBackend&) = delete;

  const std::string& address() const { return address_; }
  /// Connections accepted; those whose header was valid (`local` among them: LOCAL / UNKNOWN);
  /// those closed for a missing or malformed header.
  std::uint64_t accepted() const { return accepted_.load(); }
  std::uint64_t with_header() const { return with_header_.load(); }
  std::uint64_t local_headers() const { return local_.load(); }
  std::uint64_t without_header() const { return without_header_.load(); }
  /// What each valid header said, in arrival order (`v2 client=... dst=...`).
  std::vector<std::string> headers() const;

 private:
  void accept_loop();
  void serve(int fd);

  Mode mode_;
  std::string address_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> connections_;
  std::vector<std::string> headers_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> with_header_{0};
  std::atomic<std::uint64_t> local_{0};
  std::atomic<std::uint64_t> without_header_{0};
};

}  // namespace fulcrum::test
