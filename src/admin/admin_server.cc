#include "admin/admin_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "admin/api_json.h"
#include "admin/backend_requests.h"
#include "admin/dashboard_assets.h"
#include "admin/prometheus.h"
#include "admin/sha1.h"
#include "admin/websocket_frame.h"
#include "core/log.h"
#include "events/error_event.h"
#include "http/error_response.h"
#include "http/request_parser.h"
#include "http/syntax.h"
#include "runtime/runtime_context.h"

namespace fulcrum::admin {

namespace {

constexpr auto kTick = std::chrono::seconds(1);
constexpr std::size_t kMaxRequestBytes = 64 * 1024;  // a request head
constexpr std::size_t kMaxBodyBytes = 64 * 1024;     // a write's JSON body
constexpr std::size_t kReadChunk = 16 * 1024;

/// `%XX` decoding of a path segment or query value ('+' stays '+').
std::string percent_decode(std::string_view text) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex(text[i + 1]), low = hex(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

/// The value of `key` in a query string, decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

/// Compares without leaking where the first difference is (the token is a secret).
bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string response_head(int status, std::string_view content_type, std::size_t length, bool keep_alive,
                          std::string_view extra = {}) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status)) + "\r\n";
  if (!content_type.empty()) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\n";
  }
  head += "Content-Length: " + std::to_string(length) + "\r\n";
  head += "Cache-Control: no-store\r\n";
  head += extra;
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return head;
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
  const auto address = net::Address::resolve(admin.listen, &error);
  if (!address) return {};
  net::UniqueFd fd(::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = std::string("admin: socket: ") + std::strerror(errno);
    return {};
  }
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address->family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), address->data(), address->size()) != 0 || ::listen(fd.get(), 128) != 0) {
    error = "admin: cannot bind " + address->to_string() + ": " + std::strerror(errno);
    return {};
  }
  bound = net::Address::local_of(fd.get());
  return fd;
}

// --------------------------------------------------------------------------------- connection

class AdminServer::Connection final : public core::IoHandler {
 public:
  enum class Mode : std::uint8_t { Http, EventStream, WebSocket };

  Connection(AdminServer& server, net::UniqueFd fd, std::string ip)
      : ip(std::move(ip)), server_(server), fd_(std::move(fd)) {}

  void on_io(std::uint32_t events) override;
  /// Queues bytes and tries to send them; false when the connection was closed meanwhile.
  void send(std::string_view bytes);
  void flush();
  int fd() const { return fd_.get(); }
  void close_fd() { fd_.reset(); }

  Mode mode = Mode::Http;
  bool closed = false;
  bool close_after_write = false;
  core::TimePoint last_activity{};
  /// The first byte of the request head being read; for a connection that has sent no request
  /// yet, its accept (the whole first head is due within header_timeout of it).
  core::TimePoint head_started{};
  bool answered = false;  // a request was answered: idle between requests rather than new
  const std::string ip;   // the client's address bytes: its share of the API budget
  /// Event filter of a stream (`?kinds=`); empty: every event.
  std::array<bool, 64> kinds{};
  bool filtered = false;
  std::string out;

  /// Whether a request head (or a new connection's first one) is late by `limit`.
  bool head_overdue(core::TimePoint now, core::Milliseconds limit) const;
  bool reading_head() const { return !in_.empty(); }

 private:
  void read_input();
  void process_http();
  void process_websocket();
  void update_interest();

  AdminServer& server_;
  net::UniqueFd fd_;
  std::string in_;
  bool watching_out_ = false;
};

void AdminServer::Connection::on_io(std::uint32_t events) {
  if (closed) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_input();
  if (!closed) flush();
}

void AdminServer::Connection::read_input() {
  char buffer[kReadChunk];
  for (;;) {
    const ssize_t n = recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      // A new head starts (between requests): its deadline counts from here, not from each byte.
      if (in_.empty() && answered) head_started = server_.loop_.now();
      in_.append(buffer, static_cast<std::size_t>(n));
      last_activity = server_.loop_.now();
      if (in_.size() > kMaxRequestBytes + kMaxBodyBytes && mode == Mode::Http) break;
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    server_.close(*this);  // EOF or error: an admin client has nothing half-done worth keeping
    return;
  }
  if (mode == Mode::Http) process_http();
  else if (mode == Mode::WebSocket) process_websocket();
  else in_.clear();  // an SSE client has nothing to say
}

void AdminServer::Connection::process_http() {
  while (!closed && !close_after_write && mode == Mode::Http && !in_.empty()) {
    http::RequestParser parser;
    const http::ParseResult result = parser.parse(in_);
    if (result.status == http::ParseStatus::NeedMore) {
      if (in_.size() > kMaxRequestBytes) {
        send(http::error_response(431));
        close_after_write = true;
      }
      return;
    }
    if (result.status == http::ParseStatus::Error) {
      send(http::error_response(result.error.status));
      close_after_write = true;
      return;
    }
    const http::RequestHead& head = parser.head();
    std::size_t body_length = 0;
    if (head.framing.kind == http::BodyKind::Chunked) {
      // Writes are small JSON documents: a length up front lets them be refused before reading.
      std::string body = R"({"error":"send the request body with Content-Length, not chunked"})" "\n";
      send(response_head(411, "application/json", body.size(), false) + body);
      close_after_write = true;
      return;
    }
    if (head.framing.kind == http::BodyKind::ContentLength) body_length = head.framing.content_length;
    if (body_length > kMaxBodyBytes) {
      // Answered before the body arrives; the connection closes, so its body is never parsed.
      std::string body = R"x({"error":"request body too large (at most 64 KiB)"})x" "\n";
      send(response_head(413, "application/json", body.size(), false) + body);
      close_after_write = true;
      return;
    }
    if (in_.size() < result.head_length + body_length) return;  // the body is still on its way
    server_.handle(*this, head, std::string_view(in_).substr(result.head_length, body_length));
    in_.erase(0, result.head_length + body_length);
    answered = true;
    // A pipelined head already started; otherwise the connection now idles until the next one.
    head_started = server_.loop_.now();
  }
}

bool AdminServer::Connection::head_overdue(core::TimePoint now, core::Milliseconds limit) const {
  // A head in progress, or a new connection that has not sent one: header_timeout applies.
  return mode == Mode::Http && out.empty() && (!in_.empty() || !answered) && now - head_started >= limit;
}

void AdminServer::Connection::process_websocket() {
  while (!closed && !close_after_write && !in_.empty()) {
    const WebSocketFrame frame = parse_websocket_frame(in_);
    if (frame.status == WebSocketFrame::Status::NeedMore) return;
    if (frame.status == WebSocketFrame::Status::Error) {
      std::string close_frame;
      append_websocket_frame(close_frame, WebSocketOpcode::Close, std::string_view("\x03\xea", 2));  // 1002
      send(close_frame);
      close_after_write = true;
      return;
    }
    in_.erase(0, frame.size);
    std::string reply;
    switch (frame.opcode) {
      case WebSocketOpcode::Ping:
        append_websocket_frame(reply, WebSocketOpcode::Pong, frame.payload);
        send(reply);
        break;
      case WebSocketOpcode::Close:
        // Echo the status code (the first two bytes), then close once it is out.
        append_websocket_frame(reply, WebSocketOpcode::Close, std::string_view(frame.payload).substr(0, 2));
        send(reply);
        close_after_write = true;
        break;
      default:
        break;  // text, binary, pong: nothing to do
    }
  }
}

void AdminServer::Connection::send(std::string_view bytes) {
  if (closed) return;
  out.append(bytes);
  if (mode != Mode::Http && out.size() > server_.options_.max_stream_backlog) {
    log::warn("admin stream client too slow, dropped", {{"queued_bytes", out.size()}});
    server_.close(*this);
  }
}

void AdminServer::Connection::flush() {
  while (!closed && !out.empty()) {
    const ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    server_.close(*this);
    return;
  }
  if (closed) return;
  if (out.empty() && close_after_write) {
    server_.close(*this);
    return;
  }
  update_interest();
}

void AdminServer::Connection::update_interest() {
  const bool want_out = !out.empty();
  if (want_out == watching_out_) return;
  watching_out_ = want_out;
  server_.loop_.modify(fd_.get(), EPOLLIN | EPOLLRDHUP | (want_out ? std::uint32_t{EPOLLOUT} : std::uint32_t{0}), this);
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
      socket_(std::move(socket)),
      options_(options),
      started_(core::Clock::now()),
      tick_timer_([this] { tick(); }) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  started_ = loop_.now();
  last_keepalive_ = loop_.now();
  if (!loop_.add(socket_.get(), EPOLLIN, &acceptor_)) {
    log::error("admin: cannot watch the listening socket", {{"error", std::strerror(errno)}});
  }
  tick();
}

void AdminServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  loop_.timers().cancel(tick_timer_);
  if (socket_) {
    loop_.remove(socket_.get());
    socket_.reset();
  }
  std::vector<Connection*> open;
  for (auto& [pointer, owned] : connections_) open.push_back(pointer);
  for (Connection* connection : open) close(*connection);
  if (subscription_) {
    context_.events.unsubscribe(*subscription_);
    subscription_.reset();
  }
}

void AdminServer::accept_all() {
  for (;;) {
    const int fd = accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN) return;
      // Out of descriptors, say: the socket stays readable and retrying at once would spin the
      // control thread. tick() watches it again.
      log::error("admin: accept paused", {{"error", std::strerror(errno)}});
      events::emit_error(context_.events, "admin: accept paused",
                         events::JsonObject().add("phase", "accept").add("listener", "admin").add("reason", std::strerror(errno)));
      accept_paused_ = true;
      loop_.modify(socket_.get(), 0, &acceptor_);
      return;
    }
    net::UniqueFd owned(fd);
    const auto ip_bytes = net::Address::peer_of(fd).ip_bytes();
    std::string ip(reinterpret_cast<const char*>(ip_bytes.data()), ip_bytes.size());
    // Never refuse: whoever comes now (an operator, Prometheus) is likelier to matter than the
    // connection that has been idle longest.
    make_room(ip);
    auto connection = std::make_unique<Connection>(*this, std::move(owned), ip);
    connection->last_activity = connection->head_started = loop_.now();
    if (!loop_.add(connection->fd(), EPOLLIN | EPOLLRDHUP, connection.get())) continue;
    Connection* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    ++api_connections_;
    ++api_connections_by_ip_[ip];
  }
}

void AdminServer::make_room(const std::string& ip) {
  const std::size_t cap = std::max<std::size_t>(1, options_.max_connections);
  const std::size_t share = std::max<std::size_t>(1, cap / 2);
  const auto mine = api_connections_by_ip_.find(ip);
  const std::string* victim_ip = nullptr;
  if (mine != api_connections_by_ip_.end() && mine->second >= share) {
    victim_ip = &mine->first;
  } else if (api_connections_ >= cap) {
    std::size_t most = 0;
    for (const auto& [address, count] : api_connections_by_ip_) {
      if (count > most) most = count, victim_ip = &address;
    }
  }
  if (!victim_ip) return;
  Connection* oldest = nullptr;
  for (auto& [pointer, owned] : connections_) {
    if (pointer->closed || pointer->mode != Connection::Mode::Http || pointer->ip != *victim_ip) continue;
    if (!oldest || pointer->last_activity < oldest->last_activity) oldest = pointer;
  }
  if (!oldest) return;
  log::debug("admin: connection evicted for a new one", {{"idle_ms", std::chrono::duration_cast<core::Milliseconds>(
                                                                         loop_.now() - oldest->last_activity)
                                                                         .count()}});
  close(*oldest);
}

void AdminServer::leave_api_budget(Connection& connection) {
  --api_connections_;
  const auto found = api_connections_by_ip_.find(connection.ip);
  if (found != api_connections_by_ip_.end() && --found->second == 0) api_connections_by_ip_.erase(found);
}

void AdminServer::close(Connection& connection) {
  if (connection.closed) return;
  connection.closed = true;
  loop_.remove(connection.fd());
  connection.close_fd();
  if (connection.mode != Connection::Mode::Http) --stream_clients_;
  else leave_api_budget(connection);
  // Events of this turn may still name the connection: delete it after the turn.
  auto found = connections_.find(&connection);
  if (found != connections_.end()) {
    auto owned = std::make_shared<std::unique_ptr<Connection>>(std::move(found->second));
    connections_.erase(found);
    loop_.defer([owned] {});
  }
  loop_.defer([this] { update_subscription(); });
}

void AdminServer::tick() {
  const auto now = loop_.now();
  if (accept_paused_ && socket_) {
    accept_paused_ = false;
    loop_.modify(socket_.get(), EPOLLIN, &acceptor_);
  }
  recent_.sample(collect_stats(context_, started_, now), now);
  const bool keepalive_due = now - last_keepalive_ >= options_.stream_keepalive;
  if (keepalive_due) last_keepalive_ = now;
  std::vector<Connection*> open;
  for (auto& [pointer, owned] : connections_) open.push_back(pointer);
  for (Connection* connection : open) {
    if (connection->closed) continue;
    switch (connection->mode) {
      case Connection::Mode::Http:
        if (connection->head_overdue(now, options_.header_timeout)) {
          // Like a listener's header_timeout: a client trickling a head holds no slot for long.
          // One that never said a word is closed without an answer, as listeners do.
          if (!connection->reading_head()) {
            close(*connection);
            break;
          }
          connection->send(http::error_response(408));
          connection->close_after_write = true;
          connection->flush();
        } else if (now - connection->last_activity >= options_.idle_timeout && !connection->reading_head()) {
          // Idle between requests, or an answer the client does not read: either way, let go.
          close(*connection);
        }
        break;
      case Connection::Mode::EventStream:
        if (keepalive_due) {
          connection->send(": keep-alive\n\n");
          connection->flush();
        }
        break;
      case Connection::Mode::WebSocket:
        if (keepalive_due) {
          std::string ping;
          append_websocket_frame(ping, WebSocketOpcode::Ping, {});
          connection->send(ping);
          connection->flush();
        }
        break;
    }
  }
  loop_.timers().schedule(tick_timer_, now + std::chrono::duration_cast<core::Milliseconds>(kTick));
}

StatsSnapshot AdminServer::stats() {
  const auto now = core::Clock::now();
  StatsSnapshot snapshot = collect_stats(context_, started_, now);
  recent_.fill(snapshot, now);
  return snapshot;
}

bool AdminServer::authorized(const http::RequestHead& request, bool query_allowed) const {
  const std::string& token = context_.config.admin ? context_.config.admin->token : std::string();
  if (token.empty()) return true;
  if (const auto header = request.headers.find("authorization")) {
    std::string_view value = *header;
    if (value.size() > 7 && http::syntax::equals_ignore_case(value.substr(0, 7), "bearer ")) {
      value.remove_prefix(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return equal_constant_time(value, token);
    }
    return false;
  }
  // Browsers cannot set headers on EventSource or WebSocket requests: the query may carry it.
  if (query_allowed && request.has_query) {
    if (const auto value = query_value(request.query, "token")) return equal_constant_time(*value, token);
  }
  return false;
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
                     path.starts_with("/api/pools/") || path == "/api/config" || path == "/api/events";
  if (!known) return error(404, "not found");
  if (path.starts_with("/api/pools/")) {
    Answer answer = handle_pool_request(request, path.substr(std::string_view("/api/pools/").size()), body);
    return reply(answer.status, "application/json", answer.body, answer.extra_headers);
  }
  if (request.method_kind != http::Method::Get && !head_only) {
    return error(405, "method not allowed", "Allow: GET, HEAD\r\n");
  }

  if (path == "/metrics") return reply(200, kPrometheusContentType, render_prometheus(stats()));
  if (path == "/api/status") return reply_json(200, status_json(stats()));
  if (path == "/api/config") return reply_json(200, config_json(context_.config));
  if (path == "/api/pools") {
    nlohmann::json pools = nlohmann::json::array();
    for (const auto& pool : stats().pools) pools.push_back(pool_json(pool));
    return reply_json(200, pools);
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
    if (backend.id == id) return backend_json(backend);
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
  // {pool}, {pool}/backends or {pool}/backends/{name or address}
  const auto first_slash = rest.find('/');
  const std::string pool_name = percent_decode(rest.substr(0, first_slash));
  std::string_view tail = first_slash == std::string_view::npos ? std::string_view() : rest.substr(first_slash);
  enum class Target { Pool, Backends, Backend } target;
  std::string key;
  if (tail.empty()) {
    target = Target::Pool;
  } else if (tail == "/backends" || tail == "/backends/") {
    target = Target::Backends;
  } else if (tail.starts_with("/backends/") && tail.find('/', 10) == std::string_view::npos) {
    target = Target::Backend;
    key = percent_decode(tail.substr(10));
  } else {
    return error(404, "not found");
  }

  const http::Method method = request.method_kind;
  const bool read = method == http::Method::Get || method == http::Method::Head;
  const char* allow = target == Target::Pool       ? "Allow: GET, HEAD\r\n"
                      : target == Target::Backends ? "Allow: GET, HEAD, POST\r\n"
                                                   : "Allow: GET, HEAD, PATCH, DELETE\r\n";
  const bool allowed = read || (target == Target::Backends && method == http::Method::Post) ||
                       (target == Target::Backend && (method == http::Method::Patch || method == http::Method::Delete));
  if (!allowed) return error(405, "method not allowed", allow);

  auto& manager = context_.pool_manager;
  const auto pool = manager.find_pool(pool_name);
  if (read) {
    const StatsSnapshot snapshot = stats();
    for (const auto& stats_pool : snapshot.pools) {
      if (stats_pool.name != pool_name) continue;
      if (target == Target::Pool) return json_answer(200, pool_json(stats_pool));
      if (target == Target::Backends) return json_answer(200, pool_json(stats_pool)["backends"]);
      for (const auto& backend : stats_pool.backends) {
        if (backend.address == key || (!backend.name.empty() && backend.name == key)) {
          return json_answer(200, backend_json(backend));
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
  nlohmann::json document = backend_document(*pool, result.backend->id());
  if (document.is_null()) document = {{"id", result.backend->id()}, {"address", result.backend->address_text()}};
  return json_answer(result.status, document);
}

void AdminServer::start_stream(Connection& connection, const http::RequestHead& request, bool websocket) {
  std::array<bool, 64> kinds{};
  bool filtered = false;
  if (request.has_query) {
    if (const auto list = query_value(request.query, "kinds"); list && !list->empty()) {
      filtered = true;
      std::string_view rest = *list;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        Event event;
        if (!event_from_name(name, event)) {
          const std::string body = nlohmann::json{{"error", "unknown event kind '" + std::string(name) + "'"}}.dump() + "\n";
          connection.send(response_head(400, "application/json", body.size(), request.keep_alive) + body);
          if (!request.keep_alive) connection.close_after_write = true;
          return;
        }
        kinds[static_cast<std::size_t>(event) % kinds.size()] = true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (stream_clients_ >= options_.max_stream_clients) {
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
    connection.mode = Connection::Mode::WebSocket;
  } else {
    connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                    "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n: connected\n\n");
    connection.mode = Connection::Mode::EventStream;
  }
  connection.kinds = kinds;
  connection.filtered = filtered;
  leave_api_budget(connection);
  ++stream_clients_;
  update_subscription();
}

void AdminServer::update_subscription() {
  // Subscribed only while somebody listens, so that per-request events cost nothing otherwise.
  if (stopped_) return;
  if (stream_clients_ > 0 && !subscription_) {
    subscription_ = context_.events.subscribe_all([this](const EventData& event) { deliver(event); });
  } else if (stream_clients_ == 0 && subscription_) {
    context_.events.unsubscribe(*subscription_);
    subscription_.reset();
  }
}

void AdminServer::deliver(const EventData& event) {
  if (stream_clients_ == 0) return;
  const std::string json = event.to_json();
  const std::string_view name = event_name(event.event);
  std::string sse;
  std::string frame;
  std::vector<Connection*> open;
  for (auto& [pointer, owned] : connections_) open.push_back(pointer);
  for (Connection* connection : open) {
    if (connection->closed || connection->mode == Connection::Mode::Http) continue;
    if (connection->filtered && !connection->kinds[static_cast<std::size_t>(event.event) % connection->kinds.size()]) {
      continue;
    }
    if (connection->mode == Connection::Mode::EventStream) {
      if (sse.empty()) sse = "event: " + std::string(name) + "\ndata: " + json + "\n\n";
      connection->send(sse);
    } else {
      if (frame.empty()) append_websocket_frame(frame, WebSocketOpcode::Text, json);
      connection->send(frame);
    }
    connection->flush();
  }
}

}  // namespace fulcrum::admin
