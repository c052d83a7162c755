#include "admin/http_endpoint.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "events/error_event.h"
#include "events/refused_event.h"
#include "http/error_response.h"
#include "http/request_parser.h"
#include "http/syntax.h"

namespace fulcrum::admin {

namespace {

constexpr auto kTick = std::chrono::seconds(1);
constexpr std::size_t kMaxRequestBytes = 64 * 1024;  // a request head
constexpr std::size_t kMaxBodyBytes = 64 * 1024;     // a write's JSON body
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

// ------------------------------------------------------------------------------------ helpers

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

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string response_head(int status, std::string_view content_type, std::size_t length, bool keep_alive,
                          std::string_view extra) {
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

std::optional<bool> bearer_matches(const http::RequestHead& request, std::string_view token) {
  const auto header = request.headers.find("authorization");
  if (!header) return std::nullopt;
  std::string_view value = *header;
  if (value.size() <= 7 || !http::syntax::equals_ignore_case(value.substr(0, 7), "bearer ")) return false;
  value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return equal_constant_time(value, token);
}

net::UniqueFd bind_control_socket(std::string_view section, const std::string& listen, net::Address& bound,
                                  std::string& error) {
  const auto address = net::Address::resolve(listen, &error);
  if (!address) {
    error = std::string(section) + ".listen: " + error;
    return {};
  }
  net::UniqueFd fd(::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = std::string(section) + ": socket: " + std::strerror(errno);
    return {};
  }
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address->family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), address->data(), address->size()) != 0 || ::listen(fd.get(), 128) != 0) {
    error = std::string(section) + ": cannot bind " + address->to_string() + ": " + std::strerror(errno);
    return {};
  }
  bound = net::Address::local_of(fd.get());
  return fd;
}

// --------------------------------------------------------------------------------- connection

void HttpEndpoint::Connection::on_io(std::uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_input();
  if (!closed_) flush();
}

void HttpEndpoint::Connection::read_input() {
  char buffer[kReadChunk];
  for (;;) {
    const ssize_t n = recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      // A new head starts (between requests): its deadline counts from here, not from each byte.
      if (in_.empty() && answered_) head_started_ = endpoint_.loop_.now();
      in_.append(buffer, static_cast<std::size_t>(n));
      last_activity_ = endpoint_.loop_.now();
      if (in_.size() > kMaxRequestBytes + kMaxBodyBytes && !streaming_) break;
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    endpoint_.close(*this);  // EOF or error: a control client has nothing half-done worth keeping
    return;
  }
  if (!streaming_) process_http();
  else endpoint_.handler_.stream_input(*this, in_);
}

void HttpEndpoint::Connection::process_http() {
  while (!closed_ && !close_after_write && !streaming_ && !in_.empty()) {
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
    endpoint_.handler_.handle(*this, head, std::string_view(in_).substr(result.head_length, body_length));
    in_.erase(0, result.head_length + body_length);
    answered_ = true;
    // A pipelined head already started; otherwise the connection now idles until the next one.
    head_started_ = endpoint_.loop_.now();
  }
  // Bytes that followed the request that made this a stream belong to the stream.
  if (!closed_ && streaming_ && !in_.empty()) endpoint_.handler_.stream_input(*this, in_);
}

bool HttpEndpoint::Connection::head_overdue(core::TimePoint now, core::Milliseconds limit) const {
  // A head in progress, or a new connection that has not sent one: header_timeout applies.
  return !streaming_ && out_.empty() && (!in_.empty() || !answered_) && now - head_started_ >= limit;
}

void HttpEndpoint::Connection::send(std::string_view bytes) {
  if (closed_) return;
  out_.append(bytes);
  if (streaming_ && out_.size() > endpoint_.options_.max_stream_backlog) {
    log::warn(endpoint_.options_.name + " stream client too slow, dropped", {{"queued_bytes", out_.size()}});
    dropped_too_slow_ = true;
    endpoint_.close(*this);
  }
}

void HttpEndpoint::Connection::reply(const http::RequestHead& request, int status, std::string_view content_type,
                                     std::string_view body, std::string_view extra) {
  const bool keep_alive = request.keep_alive;
  send(response_head(status, content_type, body.size(), keep_alive, extra));
  if (request.method_kind != http::Method::Head) send(body);
  if (!keep_alive) close_after_write = true;
}

void HttpEndpoint::Connection::reply_error(const http::RequestHead& request, int status, std::string_view message,
                                           std::string_view extra) {
  reply(request, status, "application/json", nlohmann::json{{"error", message}}.dump() + "\n", extra);
}

void HttpEndpoint::Connection::flush() {
  while (!closed_ && !out_.empty()) {
    const ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes_sent_ += static_cast<std::uint64_t>(n);
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    endpoint_.close(*this);
    return;
  }
  if (closed_) return;
  if (out_.empty() && close_after_write) {
    endpoint_.close(*this);
    return;
  }
  update_interest();
}

void HttpEndpoint::Connection::update_interest() {
  const bool want_out = !out_.empty();
  if (want_out == watching_out_) return;
  watching_out_ = want_out;
  endpoint_.loop_.modify(fd_.get(), EPOLLIN | EPOLLRDHUP | (want_out ? std::uint32_t{EPOLLOUT} : std::uint32_t{0}),
                         this);
}

// ----------------------------------------------------------------------------------- endpoint

HttpEndpoint::HttpEndpoint(core::EventLoop& loop, net::UniqueFd socket, Options options, Handler& handler,
                           events::EventBus& events)
    : loop_(loop),
      socket_(std::move(socket)),
      options_(std::move(options)),
      handler_(handler),
      events_(events),
      tick_timer_([this] { tick(); }) {}

HttpEndpoint::~HttpEndpoint() { stop(); }

void HttpEndpoint::start() {
  if (!loop_.add(socket_.get(), EPOLLIN, &acceptor_)) {
    log::error(options_.name + ": cannot watch the listening socket", {{"error", std::strerror(errno)}});
  }
  tick();
}

void HttpEndpoint::stop() {
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
}

void HttpEndpoint::listen_on(net::UniqueFd socket) {
  if (stopped_) return;
  if (socket_) {
    loop_.remove(socket_.get());
    socket_.reset();
  }
  socket_ = std::move(socket);
  accept_paused_ = false;
  if (!loop_.add(socket_.get(), EPOLLIN, &acceptor_)) {
    log::error(options_.name + ": cannot watch the listening socket", {{"error", std::strerror(errno)}});
  }
}

void HttpEndpoint::stop_accepting() {
  if (!socket_) return;
  loop_.remove(socket_.get());
  socket_.reset();
}

void HttpEndpoint::accept_all() {
  for (;;) {
    const int fd = accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN) return;
      // Out of descriptors, say: the socket stays readable and retrying at once would spin the
      // control thread. tick() watches it again.
      log::error(options_.name + ": accept paused", {{"error", std::strerror(errno)}});
      events::emit_error(events_, options_.name + ": accept paused",
                         events::JsonObject()
                             .add("phase", "accept")
                             .add("listener", options_.name)
                             .add("reason", std::strerror(errno)));
      accept_paused_ = true;
      loop_.modify(socket_.get(), 0, &acceptor_);
      return;
    }
    net::UniqueFd owned(fd);
    const net::Address peer = net::Address::peer_of(fd);
    if (options_.access && !options_.access->admits(peer)) {
      if (options_.refused) options_.refused->fetch_add(1, std::memory_order_relaxed);
      if (events_.wants(Event::Refused)) events::emit_refused(events_, refused_events_, options_.name, "acl", peer.ip_string());
      continue;  // `owned` closes it
    }
    const auto ip_bytes = peer.ip_bytes();
    std::string ip(reinterpret_cast<const char*>(ip_bytes.data()), ip_bytes.size());
    // Never refuse: whoever comes now (an operator, Prometheus) is likelier to matter than the
    // connection that has been idle longest.
    make_room(ip);
    auto connection = std::make_unique<Connection>(*this, std::move(owned), ip);
    connection->last_activity_ = connection->head_started_ = loop_.now();
    if (!loop_.add(connection->fd_.get(), EPOLLIN | EPOLLRDHUP, connection.get())) continue;
    Connection* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    ++request_connections_;
    ++connections_by_ip_[ip];
  }
}

void HttpEndpoint::make_room(const std::string& ip) {
  const std::size_t cap = std::max<std::size_t>(1, options_.max_connections);
  const std::size_t share = std::max<std::size_t>(1, cap / 2);
  const auto mine = connections_by_ip_.find(ip);
  const std::string* victim_ip = nullptr;
  if (mine != connections_by_ip_.end() && mine->second >= share) {
    victim_ip = &mine->first;
  } else if (request_connections_ >= cap) {
    std::size_t most = 0;
    for (const auto& [address, count] : connections_by_ip_) {
      if (count > most) most = count, victim_ip = &address;
    }
  }
  if (!victim_ip) return;
  Connection* oldest = nullptr;
  for (auto& [pointer, owned] : connections_) {
    if (pointer->closed_ || pointer->streaming_ || pointer->ip != *victim_ip) continue;
    if (!oldest || pointer->last_activity_ < oldest->last_activity_) oldest = pointer;
  }
  if (!oldest) return;
  log::debug(options_.name + ": connection evicted for a new one",
             {{"idle_ms", std::chrono::duration_cast<core::Milliseconds>(loop_.now() - oldest->last_activity_).count()}});
  close(*oldest);
}

void HttpEndpoint::leave_budget(Connection& connection) {
  --request_connections_;
  const auto found = connections_by_ip_.find(connection.ip);
  if (found != connections_by_ip_.end() && --found->second == 0) connections_by_ip_.erase(found);
}

void HttpEndpoint::make_stream(Connection& connection) {
  if (connection.streaming_ || connection.closed_) return;
  connection.streaming_ = true;
  leave_budget(connection);
  ++stream_count_;
}

std::vector<HttpEndpoint::Connection*> HttpEndpoint::streams() const {
  std::vector<Connection*> open;
  for (const auto& [pointer, owned] : connections_) {
    if (!pointer->closed_ && pointer->streaming_) open.push_back(pointer);
  }
  return open;
}

void HttpEndpoint::close(Connection& connection) {
  if (connection.closed_) return;
  connection.closed_ = true;
  loop_.remove(connection.fd_.get());
  connection.fd_.reset();
  if (connection.streaming_) --stream_count_;
  else leave_budget(connection);
  // Events of this turn may still name the connection: delete it after the turn.
  auto found = connections_.find(&connection);
  if (found != connections_.end()) {
    auto owned = std::make_shared<std::unique_ptr<Connection>>(std::move(found->second));
    connections_.erase(found);
    loop_.defer([owned] {});
  }
  if (connection.streaming_) handler_.stream_closed(connection);
}

void HttpEndpoint::tick() {
  const auto now = loop_.now();
  if (accept_paused_ && socket_) {
    accept_paused_ = false;
    loop_.modify(socket_.get(), EPOLLIN, &acceptor_);
  }
  std::vector<Connection*> open;
  for (auto& [pointer, owned] : connections_) {
    if (!pointer->streaming_) open.push_back(pointer);
  }
  for (Connection* connection : open) {
    if (connection->closed_) continue;
    if (connection->head_overdue(now, options_.header_timeout)) {
      // Like a listener's header_timeout: a client trickling a head holds no slot for long. One
      // that never said a word is closed without an answer, as listeners do.
      if (!connection->reading_head()) {
        close(*connection);
        continue;
      }
      connection->send(http::error_response(408));
      connection->close_after_write = true;
      connection->flush();
    } else if (now - connection->last_activity_ >= options_.idle_timeout && !connection->reading_head()) {
      // Idle between requests, or an answer the client does not read: either way, let go.
      close(*connection);
    }
  }
  loop_.timers().schedule(tick_timer_, now + std::chrono::duration_cast<core::Milliseconds>(kTick));
}

}  // namespace fulcrum::admin
