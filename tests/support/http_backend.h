// An HTTP/1.1 origin for integration tests, on its own threads (one acceptor, one thread per
// connection, blocking I/O bounded by poll on a stop pipe). Keep-alive and pipelining supported.
//
// Every answer is `200 OK` with `X-Backend: <name>` and a Content-Length body:
//
//   backend=<name>\n
//   body-length=<n>\n                       (bytes of request body received, de-chunked)
//   body-checksum=<16 hex digits>\n         (checksum() of those bytes)
//   \n
//   <the request head exactly as received, request line to the empty line>
//
// so tests can assert what the proxy forwarded. Per request, a header `X-Test: <action>` asks for
// something else (headers are forwarded unchanged by the proxy, whatever the path):
//   delay=<ms>            answer after that long
//   hang                  never answer (until stopped)
//   close                 close the connection without answering
//   invalid               send bytes that are not an HTTP response, then close
//   stream-chunked=<n>    answer with n bytes of the pattern (fill_pattern) as a chunked body (HTTP/1.0
//                         request: without chunked encoding, the body ending at the close)
//   stream-length=<n>     answer with n bytes of the pattern (fill_pattern) with a Content-Length
// A request with `Upgrade: websocket` and `Connection: upgrade` gets `101 Switching Protocols`, after
// which the connection echoes raw bytes until the peer closes. `Expect: 100-continue` is answered
// with `100 Continue` before the body is read. HEAD gets the head GET would get, without the body.
//
// Backend-wide knobs (set_behaviour, set_delay) apply to every request, for tests that need a
// backend that is slow or broken whatever it is asked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace fulcrum::test {

/// Byte `offset` of the deterministic stream that downloads and uploads use: not periodic at any
/// block size a proxy might use, so a reordered, duplicated or dropped block changes checksum().
void fill_pattern(char* out, std::size_t size, std::uint64_t offset);

/// An incremental, order-sensitive checksum of a byte stream (FNV-1a-like over 8-byte words, so that
/// 100 MiB is cheap even in a sanitizer build). The value does not depend on how the stream is split.
class Checksum {
 public:
  void update(std::string_view bytes);
  /// The checksum of everything passed so far (the length included).
  std::uint64_t value() const;
  /// value() as 16 lowercase hex digits.
  std::string hex() const;
  std::uint64_t size() const { return size_; }

 private:
  void mix(std::uint64_t word) { state_ = (state_ ^ word) * 0x100000001b3ULL; }
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
  std::uint64_t size_ = 0;
  unsigned char pending_[8] = {};
  std::size_t pending_size_ = 0;
};

/// checksum() of the first `size` bytes of the pattern stream, as hex.
std::string pattern_checksum(std::uint64_t size);

class HttpBackend {
 public:
  enum class Behaviour {
    Normal,
    Hang,             // read the request, never answer
    CloseBeforeAnswer,  // read the request head, close the connection
    Invalid,          // answer with bytes that are not HTTP
  };

  explicit HttpBackend(std::string name, std::string address = "127.0.0.1:0");
  ~HttpBackend();
  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  /// `127.0.0.1:PORT` it listens (or listened) on.
  const std::string& address() const { return address_; }
  const std::string& name() const { return name_; }

  /// Closes the listener and every connection (new connects are refused). Joins every thread.
  void stop();
  /// Listens again on the same address.
  void start();

  void set_behaviour(Behaviour behaviour) { behaviour_.store(behaviour); }
  /// Delay before every answer (on top of an X-Test delay).
  void set_delay(std::chrono::milliseconds delay) { delay_ms_.store(delay.count()); }

  /// Connections accepted since construction.
  std::uint64_t accepted() const { return accepted_.load(); }
  /// Request heads received completely (whether or not the body then arrived).
  std::uint64_t heads() const { return heads_.load(); }
  /// Requests received completely, head and body (the ones that were answered, or would have been).
  std::uint64_t requests() const { return requests_.load(); }
  /// Requests whose body was cut or malformed (EOF or bad chunk in the middle of a body).
  std::uint64_t incomplete_bodies() const { return incomplete_.load(); }
  /// Bytes received on all connections.
  std::uint64_t bytes_received() const { return bytes_.load(); }
  /// The heads received so far, in order of arrival (each as received, ending with the empty line).
  std::vector<std::string> received_heads() const;
  /// How many of the heads received so far contain `needle` (a marker path, say), without copying
  /// them all.
  std::size_t heads_containing(std::string_view needle) const;
  /// Connections accepted and not yet ended (by the peer or by this backend): how tests see that a
  /// proxy kept, or closed, its idle keep-alive connections.
  std::int64_t open_connections() const { return open_.load(); }
  /// Requests whose head arrived and whose answer has not started, now and at most at once: what
  /// a limit on requests in flight (max_connections) is judged by.
  std::int64_t in_flight() const { return in_flight_.load(); }
  std::int64_t max_in_flight() const { return max_in_flight_.load(); }

 private:
  struct Connection;
  void accept_loop(int listen_fd);
  void serve(Connection* connection);

  std::string name_;
  std::string address_;
  std::thread acceptor_;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;  // guards connections_ and heads_log_
  std::vector<Connection*> connections_;
  std::vector<std::string> heads_log_;
  std::atomic<Behaviour> behaviour_{Behaviour::Normal};
  std::atomic<std::int64_t> delay_ms_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::int64_t> open_{0};
  std::atomic<std::uint64_t> heads_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> max_in_flight_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> incomplete_{0};
  std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace fulcrum::test
