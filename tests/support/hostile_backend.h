// A misbehaving backend for the soak test and tests/soak/hostile_client: it answers each request
// (HTTP) or connection (raw TCP) with a behaviour drawn from a seeded PRNG, so that Fulcrum is fed
// the failures real origins produce, concurrently and in every order.
//
// HTTP, per request: a normal answer; a delay first; a close or a reset before answering; garbage;
// a head written in pieces; a 1xx then the final answer; a close in the middle of the body; a
// chunked body (sometimes in pieces); a body delimited by the close. A WebSocket upgrade gets a 101
// and an echo (sometimes reset midway). `GET /big` asks for a large body (slow-reader tests).
// Raw, per connection: echo, echo then reset, close or reset at once, garbage, a half-close first,
// a delay first.
//
// The escape hatch for checks that need a normal answer: a request carrying `X-Hostile: off` is
// always answered normally (`200`, body `calm\n`); a raw connection whose first bytes are `calm\n`
// is always echoed.
//
// One acceptor thread, one thread per connection (blocking I/O bounded by poll on a stop pipe and
// an idle limit); stop() (and the destructor) closes everything and joins every thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace fulcrum::test {

class HostileBackend {
 public:
  enum class Mode { Http, Raw };
  struct Options {
    /// false: every request is answered normally, every raw connection echoed (a well-behaved
    /// backend, to tell what the clients alone do).
    bool misbehave = true;
    /// false: never write a response head in pieces (the misbehaviour most likely to find a bug
    /// in the response parser's resumption; off to look for other bugs while one is open).
    bool split_heads = true;
  };

  /// Listens on 127.0.0.1, port chosen by the kernel. `seed` makes the choices reproducible (the
  /// interleaving with other threads is not).
  HostileBackend(Mode mode, std::uint64_t seed, Options options);
  HostileBackend(Mode mode, std::uint64_t seed) : HostileBackend(mode, seed, Options{}) {}
  ~HostileBackend();
  HostileBackend(const HostileBackend&) = delete;
  HostileBackend& operator=(const HostileBackend&) = delete;

  /// `127.0.0.1:PORT`.
  const std::string& address() const { return address_; }
  /// Closes the listener and every connection; joins every thread. Idempotent.
  void stop();

  std::uint64_t connections() const { return connections_.load(); }
  std::uint64_t requests() const { return requests_.load(); }

 private:
  void accept_loop();
  void serve(int fd, std::uint64_t seed);
  void serve_http(int fd, std::uint64_t seed);
  void serve_raw(int fd, std::uint64_t seed);

  Mode mode_;
  std::uint64_t seed_;
  Options options_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::string address_;
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable all_done_;
  std::size_t live_ = 0;  // connection threads still running (guarded by mutex_)
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace fulcrum::test
