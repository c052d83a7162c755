// A raw TCP backend that plays a script per connection, for tests of what a proxy does when a
// peer splits its bytes anywhere, pauses, half-closes, resets, stalls or talks nonsense.
//
// On its own threads (one acceptor, one per connection; blocking I/O bounded by poll on a stop
// pipe, like HttpBackend), so it never depends on the code under test. Two ways to drive it:
//
//   ScriptedBackend(Script)     every connection plays the same steps once, reads included (a script
//                               without a read step acts before the request arrives); then it reads
//                               and drops until the peer closes.
//   ScriptedBackend(Responder)  every connection reads a whole request (head and body, framed by
//                               Content-Length or chunked), asks the responder for the steps that
//                               answer it, plays them, and reads the next request (keep-alive).
//
// A step that finds the connection gone (the peer closed or reset it) ends the connection quietly.
// Everything the backend received is counted, per connection, in order of accept.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fulcrum::test {

class ScriptedBackend {
 public:
  struct Step {
    enum class Kind {
      ReadHead,       // read up to the end of a request head (CRLF CRLF)
      ReadBody,       // read the body of the head read last (Content-Length or chunked)
      ReadRequest,    // ReadHead then ReadBody
      ReadBytes,      // read `count` more bytes (tunnel data)
      Send,           // send `bytes`
      Pause,          // sleep `duration`
      ShutdownWrite,  // shutdown(SHUT_WR): a FIN, reading goes on
      Close,          // a graceful close: FIN, then read and drop until the peer's FIN (at most 2 s)
      Reset,          // SO_LINGER 0 and close: an RST
      Stall,          // do nothing more; read and drop until the peer closes or the backend stops
      Echo,           // send back every byte received until the peer's FIN, then FIN
    };
    Kind kind;
    std::string bytes;
    std::chrono::milliseconds duration{0};
    std::size_t count = 0;

    static Step read_head() { return {Kind::ReadHead, {}, {}, 0}; }
    static Step read_body() { return {Kind::ReadBody, {}, {}, 0}; }
    static Step read_request() { return {Kind::ReadRequest, {}, {}, 0}; }
    static Step read_bytes(std::size_t n) { return {Kind::ReadBytes, {}, {}, n}; }
    static Step send(std::string bytes) { return {Kind::Send, std::move(bytes), {}, 0}; }
    /// Bytes no HTTP/1.x peer could take for a response.
    static Step garbage() { return send("\x16\x03\x01 this is not HTTP \x01\x02\r\n\r\n"); }
    static Step pause(std::chrono::milliseconds d) { return {Kind::Pause, {}, d, 0}; }
    static Step shutdown_write() { return {Kind::ShutdownWrite, {}, {}, 0}; }
    static Step close() { return {Kind::Close, {}, {}, 0}; }
    static Step reset() { return {Kind::Reset, {}, {}, 0}; }
    static Step stall() { return {Kind::Stall, {}, {}, 0}; }
    static Step echo() { return {Kind::Echo, {}, {}, 0}; }
  };
  using Script = std::vector<Step>;
  /// The steps that answer `request` (its head and body exactly as received).
  using Responder = std::function<Script(const std::string& request)>;

  explicit ScriptedBackend(Script script);
  /// `address`: where to listen (a fixed `127.0.0.1:PORT` for a test that brings a server up
  /// where a client already waits for one).
  explicit ScriptedBackend(Responder responder, const std::string& address = "127.0.0.1:0");
  ~ScriptedBackend();
  ScriptedBackend(const ScriptedBackend&) = delete;
  ScriptedBackend& operator=(const ScriptedBackend&) = delete;

  /// `127.0.0.1:PORT` it listens on.
  const std::string& address() const { return address_; }
  /// Closes the listener and every connection; joins every thread. Idempotent.
  void stop();

  std::uint64_t accepted() const { return accepted_.load(); }
  /// Whole requests read (by ReadRequest, or ReadHead + ReadBody).
  std::uint64_t requests() const { return requests_.load(); }
  std::uint64_t bytes_received() const { return bytes_.load(); }
  /// Connections that ended (by the script, or by the peer closing or resetting).
  std::uint64_t ended() const { return ended_.load(); }
  /// The bytes each connection received, in order of accept (for a finished connection, all of them).
  std::vector<std::string> received() const;

 private:
  struct Connection;
  ScriptedBackend(Script script, Responder responder, const std::string& address);
  void accept_loop(int listen_fd);
  void serve(Connection& connection);

  Script script_;
  Responder responder_;
  std::string address_;
  std::thread acceptor_;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;  // guards connections_ and each connection's `received`
  std::vector<Connection*> connections_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> ended_{0};
};

/// Where a request that starts at the front of `bytes` ends (head and Content-Length or chunked
/// body, trailers included), or 0 when it is not all there yet.
std::size_t request_length(std::string_view bytes);

}  // namespace fulcrum::test
