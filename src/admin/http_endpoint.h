// A small HTTP/1.1 server on the control thread's event loop: what the admin listener and the
// registration listener share. It accepts, reads and frames requests (heads at most 64 KiB,
// bodies at most 64 KiB and only with Content-Length), enforces the header and idle timeouts and a
// connection budget, and hands each complete request to its Handler, which answers it whole.
// A handler may turn a connection into a long-lived stream (the admin's event stream): it then
// leaves the request budget and its input goes to Handler::stream_input().
//
// Non-blocking and level-triggered. Owned by its server (AdminServer, RegistrationServer); every
// method runs on the loop's thread, except the free functions, which Balancer::start() may call
// before any thread runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "core/rate_limiter.h"
#include "events/event_bus.h"
#include "events/refused_event.h"
#include "net/address.h"
#include "net/cidr.h"
#include "net/socket.h"

namespace fulcrum::http {
struct RequestHead;
}

namespace fulcrum::admin {

/// `%XX` decoding of a path segment or query value ('+' stays '+').
std::string percent_decode(std::string_view text);
/// The value of `key` in a query string, decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key);
/// Compares without leaking where the first difference is (tokens are secrets). An empty `b`
/// never matches.
bool equal_constant_time(std::string_view a, std::string_view b);
/// A response head with Content-Length, `Cache-Control: no-store` and the Connection header;
/// `extra` is whole header lines (each ending in CRLF).
std::string response_head(int status, std::string_view content_type, std::size_t length, bool keep_alive,
                          std::string_view extra = {});
/// Whether `request` carries `Authorization: Bearer <token>`; nullopt when it has no
/// Authorization header at all (the admin API then looks at the query).
std::optional<bool> bearer_matches(const http::RequestHead& request, std::string_view token);

/// Binds and listens on `listen` (no SO_REUSEPORT: a port somebody else holds is an error).
/// `section` names the configuration section in errors (`admin`, `registration`). `bound`
/// receives the actual address (a port 0 resolved). Returns an invalid fd with `error` set on
/// failure.
net::UniqueFd bind_control_socket(std::string_view section, const std::string& listen, net::Address& bound,
                                  std::string& error);

class HttpEndpoint {
 public:
  /// Limits.
  struct Options {
    /// Names the listener in logs and `error` events (`admin`, `registration`).
    std::string name = "admin";
    /// An idle keep-alive connection is closed after this.
    core::Milliseconds idle_timeout{60'000};
    /// A request head must be complete this long after its first byte (a new connection: after
    /// the accept), or the connection gets 408 and is closed: a trickling client holds no slot.
    core::Milliseconds header_timeout{10'000};
    /// Request connections at once. When full, a new one evicts the longest-idle connection of
    /// the client address that holds the most, so a flood of idle connections cannot lock others
    /// out.
    std::size_t max_connections = 256;
    /// A stream connection whose unsent output exceeds this is dropped.
    std::size_t max_stream_backlog = 1 << 20;
    /// `allow` / `deny` of the section; null: everyone gets in. A refused connection is closed
    /// right after accept, before any byte is read, counted in `refused` (when given) and sampled
    /// as a `refused` event.
    std::shared_ptr<const net::AccessRules> access;
    std::atomic<std::uint64_t>* refused = nullptr;
  };

  class Connection;

  /// What the endpoint's owner does with requests.
  class Handler {
   public:
    /// Answers one complete request (Connection::reply(), or send() and make_stream()).
    virtual void handle(Connection& connection, const http::RequestHead& request, std::string_view body) = 0;
    /// Bytes a stream connection sent: consume what forms whole messages from `in`.
    virtual void stream_input(Connection& connection, std::string& in) {
      (void)connection;
      in.clear();
    }
    /// A stream connection closed; the object lives until the end of the loop turn.
    virtual void stream_closed(Connection& connection) { (void)connection; }

   protected:
    ~Handler() = default;
  };

  /// One client connection. Owned by the endpoint; lives until the end of the turn that closed it.
  class Connection final : public core::IoHandler {
   public:
    Connection(HttpEndpoint& endpoint, net::UniqueFd fd, std::string ip)
        : ip(std::move(ip)), endpoint_(endpoint), fd_(std::move(fd)) {}

    void on_io(std::uint32_t events) override;
    /// Queues bytes (a stream past its backlog bound is dropped); flush() sends.
    void send(std::string_view bytes);
    /// Sends what is queued; closes once it is out if close_after_write.
    void flush();
    /// Queues a whole response to `request` (keep-alive as it asked; HEAD gets no body).
    void reply(const http::RequestHead& request, int status, std::string_view content_type, std::string_view body,
               std::string_view extra = {});
    /// reply() with `{"error": message}`.
    void reply_error(const http::RequestHead& request, int status, std::string_view message,
                     std::string_view extra = {});

    bool closed() const { return closed_; }
    bool streaming() const { return streaming_; }
    /// Bytes queued since the connection opened (sent or not), and those of them sent: a stream's
    /// owner tells from them which of its messages a closed connection never got.
    std::uint64_t bytes_queued() const { return bytes_sent_ + out_.size(); }
    std::uint64_t bytes_sent() const { return bytes_sent_; }
    /// Whether the endpoint closed this stream because its unsent output passed the bound.
    bool dropped_too_slow() const { return dropped_too_slow_; }
    /// Close once the queued output is sent.
    bool close_after_write = false;
    /// The client's address bytes: its share of the request budget.
    const std::string ip;

   private:
    friend class HttpEndpoint;
    void read_input();
    void process_http();
    void update_interest();
    /// Whether a request head (or a new connection's first one) is late by `limit`.
    bool head_overdue(core::TimePoint now, core::Milliseconds limit) const;
    bool reading_head() const { return !in_.empty(); }

    HttpEndpoint& endpoint_;
    net::UniqueFd fd_;
    std::string in_;
    std::string out_;
    bool closed_ = false;
    bool streaming_ = false;
    bool watching_out_ = false;
    bool answered_ = false;  // a request was answered: idle between requests rather than new
    bool dropped_too_slow_ = false;
    std::uint64_t bytes_sent_ = 0;
    core::TimePoint last_activity_{};
    /// The first byte of the request head being read; for a connection that has sent no request
    /// yet, its accept (the whole first head is due within header_timeout of it).
    core::TimePoint head_started_{};
  };

  /// `socket` is a listening socket (bind_control_socket()); `handler` and `events` outlive the
  /// endpoint.
  HttpEndpoint(core::EventLoop& loop, net::UniqueFd socket, Options options, Handler& handler,
               events::EventBus& events);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  /// Starts accepting (loop thread).
  void start();
  /// Closes the listening socket and every connection (also done by the destructor).
  void stop();
  /// Accepts on `socket` from now on (a reload moved the listener): the old listening socket
  /// closes, the connections it accepted carry on (loop thread).
  void listen_on(net::UniqueFd socket);
  /// Closes the listening socket only: open connections go on (the old process after a binary
  /// upgrade; the new one accepts from the same socket). Loop thread.
  void stop_accepting();
  /// The listening socket (-1 once closed). Loop thread.
  int listening_fd() const { return socket_.get(); }

  /// Makes `connection` a stream: out of the request budget and its timeouts, its input to
  /// Handler::stream_input(), its output bounded by max_stream_backlog.
  void make_stream(Connection& connection);
  void close(Connection& connection);
  /// The open stream connections.
  std::vector<Connection*> streams() const;
  std::size_t stream_count() const { return stream_count_; }
  core::EventLoop& loop() { return loop_; }

 private:
  class Acceptor final : public core::IoHandler {
   public:
    explicit Acceptor(HttpEndpoint& endpoint) : endpoint_(endpoint) {}
    void on_io(std::uint32_t) override { endpoint_.accept_all(); }

   private:
    HttpEndpoint& endpoint_;
  };

  void accept_all();
  /// Makes room for a connection from `ip` when it or the whole budget is full: closes the
  /// longest-idle request connection of `ip` (at its share) or of the address holding the most.
  void make_room(const std::string& ip);
  /// The connection leaves the request budget (closed, or become a stream).
  void leave_budget(Connection& connection);
  void tick();

  core::EventLoop& loop_;
  net::UniqueFd socket_;
  Options options_;
  Handler& handler_;
  events::EventBus& events_;
  core::RateLimiter refused_events_{events::kRefusedPerSecond, events::kRefusedBurst};  // samples `refused`
  Acceptor acceptor_{*this};
  core::Timer tick_timer_;
  /// accept() failed for want of descriptors or memory: the socket is not watched until the next
  /// tick (a second), rather than retried on every loop turn.
  bool accept_paused_ = false;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::size_t stream_count_ = 0;
  std::size_t request_connections_ = 0;  // open connections that are not streams
  // Request connections per client address (ip_bytes() as a string); no entry holds 0.
  std::unordered_map<std::string, std::size_t> connections_by_ip_;
  bool stopped_ = false;
};

}  // namespace fulcrum::admin
