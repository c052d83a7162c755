// The admin listener: a small HTTP/1.1 server on the control thread's event loop serving the JSON
// API, Prometheus metrics, the event stream (Server-Sent Events or WebSocket) and the dashboard.
// docs/admin-api.md describes every endpoint.
//
// The connections, framing, timeouts and budget are the HttpEndpoint's (http_endpoint.h, shared
// with the registration listener); requests are answered whole and never touch a worker: figures come from the workers' single-writer
// counter tables and the backends' atomics (see admin/stats.h). A stream client has a bounded
// output queue: a client that cannot keep up is dropped rather than buffered without bound.
//
// Owned by the ControlPlane; every method runs on the control loop's thread (except the free
// functions, which Balancer::start() calls before any thread runs).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/http_endpoint.h"
#include "admin/stats.h"
#include <nlohmann/json.hpp>
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "events/event_bus.h"
#include "events/event_time.h"
#include "events/recent_events.h"
#include "fulcrum/config.h"
#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::runtime {
struct RuntimeContext;
}
namespace fulcrum::http {
struct RequestHead;
}
namespace fulcrum::health {
class HealthMonitor;
}
namespace fulcrum::cluster {
class ClusterStore;
}

namespace fulcrum::admin {

/// Why `admin` cannot be served, or empty: a listen address must resolve, and without a token it
/// must be a loopback address (127.0.0.0/8 or ::1).
std::string check_admin_config(const AdminConfig& admin);

/// True for 127.0.0.0/8, ::1 and v4-mapped loopback.
bool is_loopback(const net::Address& address);

/// Binds and listens on `admin.listen` (no SO_REUSEPORT: a port somebody else holds is an error)
/// after check_admin_config(). `bound` receives the actual address (a port 0 resolved). Returns an
/// invalid fd with `error` set on failure.
net::UniqueFd bind_admin_socket(const AdminConfig& admin, net::Address& bound, std::string& error);

class AdminServer final : private HttpEndpoint::Handler {
 public:
  /// Limits, overridable by tests.
  struct Options {
    /// A stream client whose unsent output exceeds this is dropped.
    std::size_t max_stream_backlog = 1 << 20;
    /// Comment (SSE) or ping (WebSocket) sent to stream clients this often.
    core::Milliseconds stream_keepalive{15'000};
    /// An idle keep-alive API connection is closed after this.
    core::Milliseconds idle_timeout{60'000};
    /// A request head must be complete this long after its first byte (a new connection: after
    /// the accept), or the connection gets 408 and is closed: a trickling client holds no slot.
    core::Milliseconds header_timeout{10'000};
    /// API connections at once. When full, a new one evicts the longest-idle connection of the
    /// client address that holds the most, so a flood of idle connections cannot lock others out.
    std::size_t max_connections = 256;
    /// Event-stream clients at once (they are long-lived on purpose, and outside the API cap).
    std::size_t max_stream_clients = 64;
  };

  /// The limits `admin` configures (the rest left at their defaults).
  static Options options_from(const AdminConfig& admin);

  /// `socket` is a listening socket from bind_admin_socket(); `context` outlives the server.
  AdminServer(core::EventLoop& loop, const runtime::RuntimeContext& context, net::UniqueFd socket, Options options);
  /// With the limits of the configuration's `admin` section.
  AdminServer(core::EventLoop& loop, const runtime::RuntimeContext& context, net::UniqueFd socket);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Starts accepting and sampling (loop thread).
  void start();
  /// Closes the listening socket and every connection, unsubscribes from the bus (loop thread;
  /// also done by the destructor).
  void stop();
  /// Accepts on `socket` from now on; connections open on the old address carry on.
  void listen_on(net::UniqueFd socket) { endpoint_.listen_on(std::move(socket)); }
  /// Stops accepting; open connections go on (binary upgrade). Loop thread.
  void stop_accepting() { endpoint_.stop_accepting(); }
  /// The listening socket, -1 once closed. Loop thread.
  int listening_fd() const { return endpoint_.listening_fd(); }
  /// Where the pools' JSON takes each backend's last check and state change from (admin/
  /// health_details.h); null (the default) leaves them out. Outlives the server.
  void set_health(const health::HealthMonitor* monitor) { health_ = monitor; }
  /// The cluster store in cluster mode (GET /api/cluster, its metrics; writes go to etcd too and
  /// are refused with 503 while it is unreachable); null outside it. Outlives the server.
  void set_cluster(cluster::ClusterStore* cluster) { cluster_ = cluster; }

 private:
  using Connection = HttpEndpoint::Connection;
  /// What an event-stream connection receives.
  struct Stream {
    bool websocket = false;
    /// Event filter (`?kinds=`); unfiltered: every event.
    std::array<bool, 64> kinds{};
    bool filtered = false;
    /// Where each event queued and not yet known to be sent ends (Connection::bytes_queued()
    /// after it): the events a client cut for being too slow never got. Bounded by the
    /// connection's output bound.
    std::deque<std::uint64_t> event_ends;
  };

  // HttpEndpoint::Handler
  /// Answers one complete request on `connection` (may make it a stream).
  void handle(Connection& connection, const http::RequestHead& request, std::string_view body) override;
  void stream_input(Connection& connection, std::string& in) override;
  void stream_closed(Connection& connection) override;

  void tick();
  /// The answer to a write on a pool's backends (`rest`: what follows `/api/pools/`).
  struct Answer {
    int status = 200;
    std::string body;  // JSON
    std::string extra_headers;
  };
  Answer handle_pool_request(const http::RequestHead& request, std::string_view rest, std::string_view body);
  /// The backend `id` of pool `pool` as GET /api/pools shows it (null when it is not there).
  nlohmann::json backend_document(std::size_t pool, std::uint64_t id);
  /// Whether `request` carries the admin token (always, when none is configured). The `token`
  /// query parameter counts only when `query_allowed`: for reads, since browsers cannot set
  /// headers on EventSource and WebSocket requests. A write needs the header: a token in a URL
  /// ends up in histories, proxies' logs and Referer fields, and a link must not change a pool.
  bool authorized(const http::RequestHead& request, bool query_allowed) const;
  /// Whether a write carrying this request's credentials would be accepted: a token is configured
  /// and the request sent it in the Authorization header (the query token is for reads only).
  bool writes_allowed(const http::RequestHead& request) const;
  void start_stream(Connection& connection, const http::RequestHead& request, bool websocket);
  /// Keeps an event in the ring, then delivers it to the stream clients.
  void record(const EventData& event);
  void deliver(const EventData& event);
  /// Queues `event` on a stream client, framed for it; `sse` and `frame` cache the framing.
  /// `replayed`: from the ring, marked `"replayed":true`.
  void send_event(Connection& connection, Stream& stream, const EventData& event, std::string& sse,
                  std::string& frame, bool replayed = false);
  /// Subscribes to the kinds the ring does not keep that some stream client asks for, only those.
  void update_subscription();
  StatsSnapshot stats();

  core::EventLoop& loop_;
  const runtime::RuntimeContext& context_;
  Options options_;
  HttpEndpoint endpoint_;
  core::TimePoint started_;
  RecentStats recent_;
  core::Timer tick_timer_;
  core::TimePoint last_keepalive_{};
  std::unordered_map<Connection*, Stream> streams_;
  /// The last events (every kind but the per-request ones and monitoring), replayed to a new
  /// stream client and served by /api/events/recent; fed from the construction on by
  /// `recent_subscriptions_`.
  events::RecentEvents recent_events_;
  std::vector<events::EventBus::SubscriptionId> recent_subscriptions_;
  /// The kinds the ring does not keep (per-request, monitoring), subscribed while some stream
  /// client asks for them (by Event value).
  std::array<std::optional<events::EventBus::SubscriptionId>, events::kEventCount> live_only_subscriptions_{};
  const health::HealthMonitor* health_ = nullptr;
  cluster::ClusterStore* cluster_ = nullptr;
  /// Events stream clients never got because they were cut for being too slow (loop thread).
  std::uint64_t events_dropped_slow_client_ = 0;
  bool stopped_ = false;
};

}  // namespace fulcrum::admin
