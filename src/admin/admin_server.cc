#include "admin/admin_server.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "admin/api_json.h"
#include "admin/backend_requests.h"
#include "admin/dashboard_assets.h"
#include "admin/health_details.h"
#include "admin/listeners_json.h"
#include "admin/prometheus.h"
#include "admin/scaling_json.h"
#include "admin/sha1.h"
#include "admin/websocket_frame.h"
#include "cluster/cluster_store.h"
#include "core/log.h"
#include "http/error_response.h"
#include "http/request_parser.h"
#include "http/syntax.h"
#include "managed/rolling_restarts.h"
#include "runtime/runtime_context.h"

namespace fulcrum::admin {

namespace {

constexpr auto kTick = std::chrono::seconds(1);

HttpEndpoint::Options endpoint_options(const AdminServer::Options& options, const runtime::RuntimeContext& context) {
  HttpEndpoint::Options endpoint;
  endpoint.name = "admin";
  if (context.config.admin) endpoint.access = net::AccessRules::shared(context.config.admin->allow, context.config.admin->deny);
  if (context.control_counters) endpoint.refused = &context.control_counters->admin_refused;
  endpoint.idle_timeout = options.idle_timeout;
  endpoint.header_timeout = options.header_timeout;
  endpoint.max_connections = options.max_connections;
  endpoint.max_stream_backlog = options.max_stream_backlog;
  return endpoint;
}

/// The `kinds` query parameter (`healthy,unhealthy`) as a mask by Event value; `filtered` false
/// when absent or empty (every kind). False with `error` set for an unknown kind.
bool parse_kinds(const http::RequestHead& request, std::array<bool, 64>& kinds, bool& filtered, std::string& error) {
  kinds = {};
  filtered = false;
  if (!request.has_query) return true;
  const auto list = query_value(request.query, "kinds");
  if (!list || list->empty()) return true;
  filtered = true;
  std::string_view rest = *list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    Event event;
    if (!event_from_name(name, event)) {
      error = "unknown event kind '" + std::string(name) + "'";
      return false;
    }
    kinds[static_cast<std::size_t>(event) % kinds.size()] = true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------ configuration

bool is_loopback(const net::Address& address) {
  const auto ip = address.ip_bytes();
  static constexpr std::array<std::uint8_t, 16> kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (ip == kLoopback6) return true;
  // ::ffff:127.0.0.0/104
  for (int i = 0; i < 10; ++i) {
    if (ip[i] != 0) return false;
  }
  return ip[10] == 0xff && ip[11] == 0xff && ip[12] == 127;
}

std::string check_admin_config(const AdminConfig& admin) {
  std::string error;
  const auto address = net::Address::resolve(admin.listen, &error);
  if (!address) return "admin.listen: " + error;
  if (admin.token.empty() && !is_loopback(*address)) {
    return "admin.listen: " + admin.listen +
           " is not a loopback address; without admin.token the admin API may only listen on 127.0.0.1 or ::1 "
           "(set admin.token to expose it)";
  }
  return {};
}
net::UniqueFd bind_admin_socket(const AdminConfig& admin, net::Address& bound, std::string& error) {
  error = check_admin_config(admin);
  if (!error.empty()) return {};
  return bind_control_socket("admin", admin.listen, bound, error);
}

// ------------------------------------------------------------------------------------- server

AdminServer::Options AdminServer::options_from(const AdminConfig& admin) {
  Options options;
  options.header_timeout = admin.header_timeout;
  options.idle_timeout = admin.idle_timeout;
  options.max_connections = admin.max_connections;
  options.max_stream_clients = admin.max_stream_clients;
  return options;
}

AdminServer::AdminServer(core::EventLoop& loop, const runtime::RuntimeContext& context, net::UniqueFd socket)
    : AdminServer(loop, context, std::move(socket),
                  context.config.admin ? options_from(*context.config.admin) : Options{}) {}

AdminServer::AdminServer(core::EventLoop& loop, const runtime::RuntimeContext& context, net::UniqueFd socket,
                         Options options)
    : loop_(loop),
      context_(context),
      options_(options),
      endpoint_(loop, std::move(socket), endpoint_options(options, context), *this, context.events),
      started_(core::Clock::now()),
      tick_timer_([this] { tick(); }) {
  // From now on, not only while a stream client listens: a page opened after a failure shows it.
  // Kind by kind, only those the ring keeps, so that the others still cost nothing unwatched.
  for (std::size_t i = 0; i < events::kEventCount; ++i) {
    const auto event = static_cast<Event>(i);
    if (!events::RecentEvents::keeps(event)) continue;
    recent_subscriptions_.push_back(context_.events.subscribe(event, [this](const EventData& e) { record(e); }));
  }
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  started_ = loop_.now();
  last_keepalive_ = loop_.now();
  endpoint_.start();
  tick();
}

void AdminServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  loop_.timers().cancel(tick_timer_);
  endpoint_.stop();
  for (const auto id : recent_subscriptions_) context_.events.unsubscribe(id);
  recent_subscriptions_.clear();
  for (auto& subscription : live_only_subscriptions_) {
    if (subscription) context_.events.unsubscribe(*subscription);
    subscription.reset();
  }
}

void AdminServer::tick() {
  const auto now = loop_.now();
  recent_.sample(collect_stats(context_, started_, now), now);
  if (now - last_keepalive_ >= options_.stream_keepalive) {
    last_keepalive_ = now;
    std::string ping;
    append_websocket_frame(ping, WebSocketOpcode::Ping, {});
    for (Connection* connection : endpoint_.streams()) {
      const auto found = streams_.find(connection);
      if (found == streams_.end()) continue;
      connection->send(found->second.websocket ? std::string_view(ping) : std::string_view(": keep-alive\n\n"));
      connection->flush();
    }
  }
  loop_.timers().schedule(tick_timer_, now + std::chrono::duration_cast<core::Milliseconds>(kTick));
}

void AdminServer::stream_input(Connection& connection, std::string& in) {
  const auto found = streams_.find(&connection);
  if (found == streams_.end() || !found->second.websocket) {
    in.clear();  // an SSE client has nothing to say
    return;
  }
  while (!connection.closed() && !connection.close_after_write && !in.empty()) {
    const WebSocketFrame frame = parse_websocket_frame(in);
    if (frame.status == WebSocketFrame::Status::NeedMore) return;
    if (frame.status == WebSocketFrame::Status::Error) {
      std::string close_frame;
      append_websocket_frame(close_frame, WebSocketOpcode::Close, std::string_view("\x03\xea", 2));  // 1002
      connection.send(close_frame);
      connection.close_after_write = true;
      return;
    }
    in.erase(0, frame.size);
    std::string reply;
    switch (frame.opcode) {
      case WebSocketOpcode::Ping:
        append_websocket_frame(reply, WebSocketOpcode::Pong, frame.payload);
        connection.send(reply);
        break;
      case WebSocketOpcode::Close:
        // Echo the status code (the first two bytes), then close once it is out.
        append_websocket_frame(reply, WebSocketOpcode::Close, std::string_view(frame.payload).substr(0, 2));
        connection.send(reply);
        connection.close_after_write = true;
        break;
      default:
        break;  // text, binary, pong: nothing to do
    }
  }
}

void AdminServer::stream_closed(Connection& connection) {
  const auto found = streams_.find(&connection);
  if (found != streams_.end() && connection.dropped_too_slow()) {
    // What was queued and not sent is lost to this client, the event that overflowed included.
    for (const std::uint64_t end : found->second.event_ends) {
      events_dropped_slow_client_ += end > connection.bytes_sent() ? 1 : 0;
    }
  }
  streams_.erase(&connection);
  loop_.defer([this] { update_subscription(); });
}

StatsSnapshot AdminServer::stats() {
  const auto now = core::Clock::now();
  StatsSnapshot snapshot = collect_stats(context_, started_, now);
  snapshot.drops.events_slow_client = events_dropped_slow_client_;
  recent_.fill(snapshot, now);
  return snapshot;
}

bool AdminServer::authorized(const http::RequestHead& request, bool query_allowed) const {
  const std::string& token = context_.config.admin ? context_.config.admin->token : std::string();
  if (token.empty()) return true;
  if (const auto matches = bearer_matches(request, token)) return *matches;
  // Browsers cannot set headers on EventSource or WebSocket requests: the query may carry it.
  if (query_allowed && request.has_query) {
    if (const auto value = query_value(request.query, "token")) return equal_constant_time(*value, token);
  }
  return false;
}

bool AdminServer::writes_allowed(const http::RequestHead& request) const {
  const std::string& token = context_.config.admin ? context_.config.admin->token : std::string();
  if (token.empty()) return false;
  return bearer_matches(request, token).value_or(false);
}

void AdminServer::handle(Connection& connection, const http::RequestHead& request, std::string_view body) {
  const std::string_view path = request.path;
  const bool head_only = request.method_kind == http::Method::Head;
  const bool keep_alive = request.keep_alive;
  auto reply = [&](int status, std::string_view content_type, std::string_view body, std::string_view extra = {}) {
    connection.send(response_head(status, content_type, body.size(), keep_alive, extra));
    if (!head_only) connection.send(body);
    if (!keep_alive) connection.close_after_write = true;
  };
  auto reply_json = [&](int status, const nlohmann::json& document, std::string_view extra = {}) {
    reply(status, "application/json", document.dump() + "\n", extra);
  };
  auto error = [&](int status, std::string_view message, std::string_view extra = {}) {
    reply_json(status, {{"error", message}}, extra);
  };

  const bool api = path == "/metrics" || path == "/api" || path.starts_with("/api/");
  if (!api) {
    // The dashboard: static files with no data in them, so no token (the page asks for it).
    if (request.method_kind != http::Method::Get && !head_only) {
      return error(405, "method not allowed", "Allow: GET, HEAD\r\n");
    }
    if (const auto asset = find_dashboard_asset(request.target)) return reply(200, asset->content_type, asset->body);
    return error(404, "not found");
  }
  const bool read = request.method_kind == http::Method::Get || head_only;
  if (!authorized(request, /*query_allowed=*/read)) {
    return error(401, "a bearer token is required", "WWW-Authenticate: Bearer realm=\"fulcrum\"\r\n");
  }
  const bool known = path == "/metrics" || path == "/api/status" || path == "/api/pools" ||
                     path.starts_with("/api/pools/") || path == "/api/config" || path == "/api/events" ||
                     path == "/api/events/recent" || path == "/api/listeners" || path == "/api/reload" ||
                     path == "/api/cluster";
  if (!known) return error(404, "not found");
  if (path == "/api/reload") {
    if (request.method_kind != http::Method::Post) return error(405, "method not allowed", "Allow: POST\r\n");
    // A write: without a token anybody on the admin address could reload.
    if (!context_.config.admin || context_.config.admin->token.empty()) {
      return error(403, "the admin API is read-only: set admin.token in the configuration to allow writes");
    }
    if (!context_.reload || !context_.reload->reload_file) return error(503, "reload is not available");
    // Synchronous: the answer says what the reload did (it runs here, on the control thread).
    const ReloadResult result = context_.reload->reload_file();
    if (!result.ok()) return reply_json(400, {{"errors", result.errors}, {"generation", result.generation}});
    nlohmann::json document = {{"reloaded", true}, {"changes", result.changes}, {"generation", result.generation}};
    if (!result.restart_required.empty()) document["restart_required"] = result.restart_required;
    return reply_json(200, document);
  }
  if (path.starts_with("/api/pools/")) {
    Answer answer = handle_pool_request(request, path.substr(std::string_view("/api/pools/").size()), body);
    return reply(answer.status, "application/json", answer.body, answer.extra_headers);
  }
  if (request.method_kind != http::Method::Get && !head_only) {
    return error(405, "method not allowed", "Allow: GET, HEAD\r\n");
  }

  if (path == "/metrics") {
    return reply(200, kPrometheusContentType,
                 render_prometheus(stats()) + render_process_metrics(process::read_process_stats()) +
                     (cluster_ ? cluster_->metrics_text() : std::string()));
  }
  if (path == "/api/status") {
    // `writable` tells the dashboard whether to show its write controls, so that it need not probe
    // with a write: what the credentials of this very request would be allowed to do.
    nlohmann::json document = with_health(status_json(stats()), health_);
    document["writable"] = writes_allowed(request);
    // The dashboard's cluster panel: the same document as GET /api/cluster.
    if (cluster_) document["cluster"] = cluster_->to_json();
    return reply_json(200, document);
  }
  if (path == "/api/config") return reply_json(200, config_json(context_.config));
  if (path == "/api/cluster") {
    if (!cluster_) return error(404, "this instance is not in a cluster (its configuration has no 'cluster:' section)");
    return reply_json(200, cluster_->to_json());
  }
  if (path == "/api/listeners") return reply_json(200, listeners_json(context_));
  if (path == "/api/events/recent") {
    std::array<bool, 64> kinds{};
    bool filtered = false;
    std::string why;
    if (!parse_kinds(request, kinds, filtered, why)) return error(400, why);
    std::string body = "[";
    recent_events_.for_each(filtered ? kinds.data() : nullptr, kinds.size(), [&](const EventData& event) {
      if (body.size() > 1) body += ',';
      body += event.to_json();
    });
    body += "]\n";
    return reply(200, "application/json", body);
  }
  if (path == "/api/pools") {
    nlohmann::json pools = nlohmann::json::array();
    for (const auto& pool : stats().pools) pools.push_back(pool_json(pool));
    return reply_json(200, with_health(std::move(pools), health_));
  }
  // /api/events
  if (head_only) return reply(200, "text/event-stream", "");
  const bool websocket = request.upgrade_requested && http::syntax::equals_ignore_case(request.upgrade, "websocket");
  start_stream(connection, request, websocket);
}

nlohmann::json AdminServer::backend_document(std::size_t pool, std::uint64_t id) {
  const StatsSnapshot snapshot = stats();
  if (pool >= snapshot.pools.size()) return nullptr;
  for (const auto& backend : snapshot.pools[pool].backends) {
    if (backend.id == id) return backend_json(backend, snapshot.pools[pool].health_checked);
  }
  return nullptr;
}

AdminServer::Answer AdminServer::handle_pool_request(const http::RequestHead& request, std::string_view rest,
                                                     std::string_view body) {
  auto json_answer = [](int status, const nlohmann::json& document, std::string extra = {}) {
    return Answer{status, document.dump() + "\n", std::move(extra)};
  };
  auto error = [&](int status, std::string_view message, std::string extra = {}) {
    return json_answer(status, {{"error", message}}, std::move(extra));
  };
  // {pool}, {pool}/backends, {pool}/backends/{name or address} or {pool}/restart
  const auto first_slash = rest.find('/');
  const std::string pool_name = percent_decode(rest.substr(0, first_slash));
  std::string_view tail = first_slash == std::string_view::npos ? std::string_view() : rest.substr(first_slash);
  enum class Target { Pool, Backends, Backend, Instances, Restart } target;
  std::string key;
  if (tail.empty()) {
    target = Target::Pool;
  } else if (tail == "/backends" || tail == "/backends/") {
    target = Target::Backends;
  } else if (tail == "/instances" || tail == "/instances/") {
    target = Target::Instances;
  } else if (tail == "/restart") {
    target = Target::Restart;
  } else if (tail.starts_with("/backends/") && tail.find('/', 10) == std::string_view::npos) {
    target = Target::Backend;
    key = percent_decode(tail.substr(10));
  } else {
    return error(404, "not found");
  }

  const http::Method method = request.method_kind;
  const bool read = target != Target::Restart && (method == http::Method::Get || method == http::Method::Head);
  const char* allow = target == Target::Pool        ? "Allow: GET, HEAD, PATCH\r\n"
                      : target == Target::Backends  ? "Allow: GET, HEAD, POST\r\n"
                      : target == Target::Instances ? "Allow: GET, HEAD\r\n"
                      : target == Target::Restart   ? "Allow: POST\r\n"
                                                    : "Allow: GET, HEAD, PATCH, DELETE\r\n";
  const bool allowed = read || (target == Target::Pool && method == http::Method::Patch) ||
                       (target == Target::Restart && method == http::Method::Post) ||
                       (target == Target::Backends && method == http::Method::Post) ||
                       (target == Target::Backend && (method == http::Method::Patch || method == http::Method::Delete));
  if (!allowed) return error(405, "method not allowed", allow);

  auto& manager = context_.pool_manager;
  const auto pool = manager.find_pool(pool_name);
  if (read) {
    const StatsSnapshot snapshot = stats();
    for (const auto& stats_pool : snapshot.pools) {
      if (stats_pool.name != pool_name) continue;
      // With each backend's last check and state_since (admin/health_details.h).
      nlohmann::json document = with_health(pool_json(stats_pool), health_);
      if (target == Target::Pool) return json_answer(200, document);
      if (target == Target::Backends) return json_answer(200, document["backends"]);
      if (target == Target::Instances) {
        if (!stats_pool.managed) return error(404, "pool '" + pool_name + "' is not managed (it has no managed: section)");
        return json_answer(200, document["managed"]["instances"]);
      }
      for (std::size_t i = 0; i < stats_pool.backends.size(); ++i) {
        const auto& backend = stats_pool.backends[i];
        if (backend.address == key || (!backend.name.empty() && backend.name == key)) {
          return json_answer(200, document["backends"][i]);
        }
      }
      return error(404, "no backend '" + key + "' in pool '" + pool_name + "'");
    }
    return error(404, "no pool named '" + pool_name + "'");
  }

  // A write. Without a token anybody on the admin address could change the pools: refused.
  const bool has_token = context_.config.admin && !context_.config.admin->token.empty();
  if (!has_token) {
    return error(403, "the admin API is read-only: set admin.token in the configuration to allow writes");
  }
  if (!pool) return error(404, "no pool named '" + pool_name + "'");
  if (target == Target::Restart) {
    // Nothing to say in a body; an empty object is accepted as well.
    const auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!body.empty() && !(parsed.is_object() && parsed.empty())) {
      return error(400, "a restart takes no body (or {}): the pool's managed.max_parallel says how many at a time");
    }
    if (context_.rolls == nullptr) return error(503, "rolling restarts are not available");
    if (const auto refused = context_.rolls->start(*pool, "api")) return error(refused->status, refused->error);
    // Accepted: the roll goes on after this answer; GET /api/pools/{pool} follows it (`roll`).
    return json_answer(202, roll_json(*context_.rolls->status(*pool)));
  }
  // In cluster mode a change must reach etcd, or the instances would disagree: refused while it
  // is away (reads go on).
  if (cluster_) {
    if (auto refusal = cluster_->write_refusal(); !refusal.empty()) return error(503, refusal, "Retry-After: 1\r\n");
  }
  if (target == Target::Pool) {
    auto parsed = parse_pool_update(body);
    if (auto* bad = std::get_if<BodyError>(&parsed)) return error(bad->status, bad->message);
    const bool paused = std::get<PoolUpdate>(parsed).paused;
    const auto changed = manager.set_paused(pool_name, paused, core::Clock::now());
    if (!changed.ok()) return error(changed.status, changed.error);
    if (cluster_) cluster_->record_pause(pool_name, paused);
    for (const auto& stats_pool : stats().pools) {
      if (stats_pool.name == pool_name) return json_answer(200, with_health(pool_json(stats_pool), health_));
    }
    return error(404, "no pool named '" + pool_name + "'");
  }
  membership::ChangeResult result;
  if (target == Target::Backends) {
    auto parsed = parse_new_backend(body);
    if (auto* bad = std::get_if<BodyError>(&parsed)) return error(bad->status, bad->message);
    result = manager.add_backend(pool_name, std::get<membership::NewBackend>(parsed));
  } else if (method == http::Method::Delete) {
    result = manager.remove_backend(pool_name, key);
  } else {
    auto parsed = parse_backend_update(body);
    if (auto* bad = std::get_if<BodyError>(&parsed)) return error(bad->status, bad->message);
    result = manager.update_backend(pool_name, key, std::get<membership::BackendUpdate>(parsed));
  }
  if (!result.ok()) return error(result.status, result.error);
  if (cluster_) {
    if (method == http::Method::Delete) {
      cluster_->record_removal(pool_name, *result.backend);
    } else {
      cluster_->record_backend(pool_name, result.backend->id());
    }
  }
  nlohmann::json document = backend_document(*pool, result.backend->id());
  if (document.is_null()) document = {{"id", result.backend->id()}, {"address", result.backend->address_text()}};
  return json_answer(result.status, document);
}

void AdminServer::start_stream(Connection& connection, const http::RequestHead& request, bool websocket) {
  std::array<bool, 64> kinds{};
  bool filtered = false;
  std::string why;
  if (!parse_kinds(request, kinds, filtered, why)) {
    const std::string body = nlohmann::json{{"error", why}}.dump() + "\n";
    connection.send(response_head(400, "application/json", body.size(), request.keep_alive) + body);
    if (!request.keep_alive) connection.close_after_write = true;
    return;
  }
  // `recent=0`: live events only (a client that already holds the recent ones).
  const auto recent = request.has_query ? query_value(request.query, "recent") : std::nullopt;
  const bool replay = !recent || *recent != "0";
  if (endpoint_.stream_count() >= options_.max_stream_clients) {
    const std::string body = R"({"error":"too many event-stream clients"})" "\n";
    connection.send(response_head(503, "application/json", body.size(), false, "Retry-After: 5\r\n") + body);
    connection.close_after_write = true;
    return;
  }
  if (websocket) {
    const auto key = request.headers.find("sec-websocket-key");
    const auto version = request.headers.find("sec-websocket-version");
    if (!key || key->empty() || !version || *version != "13") {
      const std::string body = R"({"error":"a WebSocket handshake needs Sec-WebSocket-Key and version 13"})" "\n";
      connection.send(response_head(426, "application/json", body.size(), false,
                                    "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n") +
                      body);
      connection.close_after_write = true;
      return;
    }
    connection.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " +
                    websocket_accept_key(*key) + "\r\n\r\n");
  } else {
    connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                    "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n: connected\n\n");
  }
  streams_[&connection] = Stream{websocket, kinds, filtered};
  endpoint_.make_stream(connection);
  update_subscription();
  if (replay) {
    // The ring holds exactly the events delivered so far, and live delivery goes on from the next
    // one (both on this thread): nothing is sent twice, nothing is missed in between.
    recent_events_.for_each(filtered ? kinds.data() : nullptr, kinds.size(), [&](const EventData& event) {
      if (connection.closed()) return;  // cut for being too slow: its Stream is gone
      std::string sse, frame;
      send_event(connection, streams_[&connection], event, sse, frame, /*replayed=*/true);
    });
  }
  connection.flush();
}

void AdminServer::update_subscription() {
  // The kinds the ring keeps are always subscribed. The others (per-request, monitoring) only while
  // a stream client asks for them, each on its own: a dashboard without its per-request chips on
  // leaves wants(request) false, and the data path pays nothing for it.
  if (stopped_) return;
  std::array<bool, events::kEventCount> wanted{};
  for (const auto& [connection, stream] : streams_) {
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      wanted[i] = wanted[i] || !stream.filtered || stream.kinds[i % stream.kinds.size()];
    }
  }
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const auto event = static_cast<Event>(i);
    if (events::RecentEvents::keeps(event)) continue;
    auto& subscription = live_only_subscriptions_[i];
    if (wanted[i] && !subscription) {
      subscription = context_.events.subscribe(event, [this](const EventData& e) { deliver(e); });
    } else if (!wanted[i] && subscription) {
      context_.events.unsubscribe(*subscription);
      subscription.reset();
    }
  }
}

void AdminServer::record(const EventData& event) {
  recent_events_.push(event);
  deliver(event);
}

void AdminServer::send_event(Connection& connection, Stream& stream, const EventData& event, std::string& sse,
                             std::string& frame, bool replayed) {
  auto json = [&] {
    std::string line = event.to_json();
    // A replayed event says so, so that a client does not take an old health change for news.
    if (replayed && line.size() > 2 && line.back() == '}') line.insert(line.size() - 1, ",\"replayed\":true");
    return line;
  };
  // Events known to be sent are forgotten; this one is remembered before send(), which may cut
  // the client (and end `stream`) when it does not fit.
  while (!stream.event_ends.empty() && stream.event_ends.front() <= connection.bytes_sent()) {
    stream.event_ends.pop_front();
  }
  if (!stream.websocket) {
    if (sse.empty()) sse = "event: " + std::string(event_name(event.event)) + "\ndata: " + json() + "\n\n";
    stream.event_ends.push_back(connection.bytes_queued() + sse.size());
    connection.send(sse);
  } else {
    if (frame.empty()) append_websocket_frame(frame, WebSocketOpcode::Text, json());
    stream.event_ends.push_back(connection.bytes_queued() + frame.size());
    connection.send(frame);
  }
}

void AdminServer::deliver(const EventData& event) {
  if (streams_.empty()) return;
  std::string sse;
  std::string frame;
  for (Connection* connection : endpoint_.streams()) {
    const auto found = streams_.find(connection);
    if (connection->closed() || found == streams_.end()) continue;
    Stream& stream = found->second;
    if (stream.filtered && !stream.kinds[static_cast<std::size_t>(event.event) % stream.kinds.size()]) continue;
    send_event(*connection, stream, event, sse, frame);
    connection->flush();
  }
}

}  // namespace fulcrum::admin
