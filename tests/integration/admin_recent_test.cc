// What an operator who looks late still sees, over a real Balancer and real sockets: the recent
// events (GET /api/events/recent, and replayed first to a new SSE or WebSocket client) show a
// backend that went down before anybody watched; the per-request kinds reach a stream client only
// as asked; each backend's last check and state change in /api/pools; each listener's routes in
// /api/listeners.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "admin_test_config.h"
#include "fulcrum/balancer.h"
#include "support/eventually.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

/// GET `path` on the admin listener: the status and the body parsed (null when not JSON).
std::pair<int, nlohmann::json> admin_json(const std::string& admin, const std::string& path) {
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid()) return {0, nullptr};
  const auto response = connection.get(path, "", "admin");
  if (!response) return {0, nullptr};
  return {response->status, nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false)};
}

bool has_event(const nlohmann::json& events, std::string_view kind, const std::string& backend) {
  if (!events.is_array()) return false;
  for (const auto& event : events) {
    if (event.value("event", "") == kind && event.value("backend", "") == backend) return true;
  }
  return false;
}

/// A stream client's bytes, read in whatever pieces they arrive and handed out by delimiter or
/// size (the replay follows the response head in the same segments).
class StreamReader {
 public:
  explicit StreamReader(Client& client) : client_(client) {}

  /// Up to and including `delimiter`; empty on timeout.
  std::string until(std::string_view delimiter, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.find(delimiter) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !fill(left)) return {};
    }
    const auto end = buffer_.find(delimiter) + delimiter.size();
    std::string out = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return out;
  }

  /// Exactly `n` bytes; empty on timeout.
  std::string exactly(std::size_t n, std::chrono::milliseconds timeout = 3s) {
    if (buffer_.size() < n) buffer_ += client_.read_exactly(n - buffer_.size(), timeout);
    if (buffer_.size() < n) return {};
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

 private:
  bool fill(std::chrono::milliseconds timeout) {
    // read_until returns once something containing a newline came; any bytes are progress.
    const std::string more = client_.read_until("\n", timeout);
    buffer_ += more;
    return !more.empty();
  }

  Client& client_;
  std::string buffer_;
};

/// Reads SSE events until one of `kind` arrives (or `limit` events, or a timeout); returns every
/// `data:` JSON read, the matching one last when found.
std::vector<nlohmann::json> read_sse_until(StreamReader& reader, std::string_view kind, int limit = 300) {
  std::vector<nlohmann::json> seen;
  for (int i = 0; i < limit;) {
    const std::string block = reader.until("\n\n");
    if (block.empty()) break;
    const auto data = block.find("data: ");
    if (data == std::string::npos) continue;  // a comment (": connected", keep-alive)
    ++i;
    seen.push_back(nlohmann::json::parse(block.substr(data + 6), nullptr, false));
    if (seen.back().is_object() && seen.back().value("event", "") == kind) break;
  }
  return seen;
}

/// Reads one unmasked server text frame's payload as JSON (discarded on timeout; < 64 KiB).
nlohmann::json read_frame_json(StreamReader& reader) {
  const std::string header = reader.exactly(2);
  if (header.size() < 2) return nlohmann::json::value_t::discarded;
  std::size_t size = static_cast<std::uint8_t>(header[1]) & 0x7f;
  if (size == 126) {
    const std::string extended = reader.exactly(2);
    if (extended.size() < 2) return nlohmann::json::value_t::discarded;
    size = static_cast<std::uint8_t>(extended[0]) * 256u + static_cast<std::uint8_t>(extended[1]);
  }
  return nlohmann::json::parse(reader.exactly(size), nullptr, false);
}

/// Opens an SSE stream on `path`; true when it answered 200 and said `: connected`.
bool open_sse(Client& client, StreamReader& reader, const std::string& path) {
  if (!client.valid() || !client.send_all("GET " + path + " HTTP/1.1\r\nHost: admin\r\n\r\n")) return false;
  const std::string head = reader.until("\r\n\r\n: connected\n\n");
  return head.rfind("HTTP/1.1 200", 0) == 0;
}

TEST(AdminRecent, AFailureBeforeAnyClientIsServedAndReplayedToNewStreamClients) {
  HttpBackend a("a"), b("b");
  Balancer balancer(checked_pool_config(a.address(), b.address()));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  std::this_thread::sleep_for(300ms);  // both checked healthy first
  b.stop();                            // ...and b goes down while nobody watches
  nlohmann::json recent;
  ASSERT_TRUE(eventually([&] {
    recent = admin_json(admin, "/api/events/recent").second;
    return has_event(recent, "unhealthy", b.address());
  })) << recent.dump();
  // Oldest first, from the start on, and no per-request kind.
  ASSERT_TRUE(recent.is_array());
  EXPECT_EQ(recent.front()["event"], "start") << recent.dump();
  EXPECT_TRUE(has_event(recent, "healthy", a.address()));
  for (const auto& event : recent) {
    const std::string kind = event.value("event", "");
    EXPECT_TRUE(kind != "request" && kind != "response" && kind != "selecting_server") << kind;
  }

  // The filter, and its errors.
  const auto [status, only] = admin_json(admin, "/api/events/recent?kinds=unhealthy");
  EXPECT_EQ(status, 200);
  ASSERT_TRUE(only.is_array());
  ASSERT_GE(only.size(), 1u);
  for (const auto& event : only) EXPECT_EQ(event["event"], "unhealthy");
  const auto [bad_status, bad] = admin_json(admin, "/api/events/recent?kinds=unhealthy,nonsense");
  EXPECT_EQ(bad_status, 400);
  EXPECT_EQ(bad.value("error", ""), "unknown event kind 'nonsense'");

  // A Server-Sent Events client that connects now still sees the unhealthy, after the start.
  auto sse = Client::connect(admin);
  StreamReader sse_reader(sse);
  ASSERT_TRUE(open_sse(sse, sse_reader, "/api/events"));
  const auto replayed = read_sse_until(sse_reader, "unhealthy");
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(replayed.front()["event"], "start");
  EXPECT_EQ(replayed.back()["event"], "unhealthy");
  EXPECT_EQ(replayed.back()["backend"], b.address());
  for (const auto& event : replayed) EXPECT_EQ(event.value("replayed", false), true) << event.dump();

  // A WebSocket client asking only for unhealthy gets exactly that one first.
  auto ws = Client::connect(admin);
  ASSERT_TRUE(ws.send_all("GET /api/events?kinds=unhealthy HTTP/1.1\r\nHost: admin\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n"));
  StreamReader ws_reader(ws);
  ASSERT_EQ(ws_reader.until("\r\n\r\n").rfind("HTTP/1.1 101", 0), 0u);
  const auto frame = read_frame_json(ws_reader);
  EXPECT_EQ(frame.value("event", ""), "unhealthy") << frame.dump();
  EXPECT_EQ(frame.value("backend", ""), b.address());
  EXPECT_EQ(frame.value("replayed", false), true);

  // recent=0: live events only. The first one it gets is a's going down, not b's old one.
  auto live = Client::connect(admin);
  StreamReader live_reader(live);
  ASSERT_TRUE(open_sse(live, live_reader, "/api/events?kinds=unhealthy&recent=0"));
  a.stop();
  const auto first_live = read_sse_until(live_reader, "unhealthy");
  ASSERT_EQ(first_live.size(), 1u);
  EXPECT_EQ(first_live.front()["backend"], a.address());
  EXPECT_FALSE(first_live.front().contains("replayed"));
  // The replaying clients get the live one too, after the replay.
  const auto live_frame = read_frame_json(ws_reader);
  ASSERT_TRUE(live_frame.is_object());
  EXPECT_EQ(live_frame.value("backend", ""), a.address());
  balancer.stop();
}

TEST(AdminRecent, StreamClientsGetThePerRequestKindsTheyAskFor) {
  HttpBackend a("a"), b("b");
  Balancer balancer(checked_pool_config(a.address(), b.address()));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  auto responses = Client::connect(admin);
  StreamReader responses_reader(responses);
  ASSERT_TRUE(open_sse(responses, responses_reader, "/api/events?kinds=response&recent=0"));
  auto requests = Client::connect(admin);
  StreamReader requests_reader(requests);
  ASSERT_TRUE(open_sse(requests, requests_reader, "/api/events?kinds=request&recent=0"));

  auto client = HttpConnection::connect(balancer.listeners()[0].address);
  const auto answer = client.get("/hello");
  ASSERT_TRUE(answer && answer->status == 200);
  const auto response = read_sse_until(responses_reader, "response", 1);
  ASSERT_EQ(response.size(), 1u);
  EXPECT_EQ(response[0]["status"], 200);
  const auto request = read_sse_until(requests_reader, "request", 1);
  ASSERT_EQ(request.size(), 1u);
  EXPECT_EQ(request[0]["path"], "/hello");

  // The `response` client leaves: the `request` one still gets its kind, and only it.
  responses.close();
  std::this_thread::sleep_for(100ms);
  const auto again = client.get("/again");
  ASSERT_TRUE(again && again->status == 200);
  const auto next = read_sse_until(requests_reader, "request", 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]["path"], "/again");
  balancer.stop();
}

TEST(AdminRecent, PoolsShowTheLastCheckAndSinceWhenTheStateHolds) {
  HttpBackend a("a"), b("b");
  Balancer balancer(checked_pool_config(a.address(), b.address()));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  nlohmann::json pool;
  ASSERT_TRUE(eventually([&] {
    pool = admin_json(admin, "/api/pools/api").second;
    return pool.is_object() && pool["backends"][0].contains("last_check") &&
           pool["backends"][1].contains("last_check");
  })) << pool.dump();
  const std::string a_since = pool["backends"][0]["state_since"];
  const auto& healthy = pool["backends"][1];
  EXPECT_EQ(healthy["last_check"]["ok"], true);
  EXPECT_GE(healthy["last_check"]["duration_ms"].get<double>(), 0.0);
  EXPECT_FALSE(healthy["last_check"].contains("error"));
  const std::string healthy_since = healthy["state_since"];
  EXPECT_EQ(healthy_since.size(), std::string("2026-06-16T07:06:59.969Z").size()) << healthy_since;

  b.stop();
  ASSERT_TRUE(eventually([&] {
    pool = admin_json(admin, "/api/pools/api").second;
    return pool.is_object() && pool["backends"][1]["state"] == "unhealthy";
  })) << pool.dump();
  const auto& down = pool["backends"][1];
  EXPECT_EQ(down["last_check"]["ok"], false) << down.dump();
  EXPECT_FALSE(down["last_check"].value("error", "").empty()) << down.dump();
  // ISO times of one format compare as text.
  EXPECT_GT(down["state_since"].get<std::string>(), healthy_since);
  EXPECT_GE(down["last_check"]["at"].get<std::string>(), down["state_since"].get<std::string>());
  // a kept its state all along, while its checks went on (wait for one after a_since was read).
  nlohmann::json later;
  ASSERT_TRUE(eventually([&] {
    later = admin_json(admin, "/api/pools/api").second;
    return later.is_object() && later["backends"][0]["last_check"]["at"].get<std::string>() > a_since;
  })) << later.dump();
  EXPECT_EQ(later["backends"][0]["state_since"], a_since);
  EXPECT_EQ(later["backends"][0]["last_check"]["ok"], true);

  // The list of pools and the status carry the same.
  const auto pools = admin_json(admin, "/api/pools").second;
  EXPECT_EQ(pools[0]["backends"][1]["last_check"]["ok"], false) << pools.dump();
  const auto status = admin_json(admin, "/api/status").second;
  EXPECT_TRUE(status["pools"][0]["backends"][0].contains("state_since")) << status.dump();
  balancer.stop();
}

TEST(AdminRecent, ListenersShowWhichMatchGoesToWhichPool) {
  HttpBackend a("a"), b("b");
  Config config;
  config.workers = 1;
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  ListenerConfig web{.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http};
  web.routes.push_back({.match = {.host = "api.example.com", .path = "/v1/*"}, .pool = "api"});
  web.routes.push_back({.match = {.path = "/static/*"}, .pool = "static", .strip_prefix = "/static"});
  web.routes.push_back({.match = {.headers = {{"x-env", "blue"}}}, .pool = "api"});
  config.listeners.push_back(web);
  config.listeners.push_back({.name = "raw", .listen = "127.0.0.1:0", .mode = ListenerMode::Tcp, .pool = "static"});
  config.pools.push_back({.name = "api", .backends = {{.address = a.address()}}});
  config.pools.push_back({.name = "static", .backends = {{.address = b.address()}}});
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  const auto [status, listeners] = admin_json(balancer.admin_address(), "/api/listeners");
  ASSERT_EQ(status, 200);
  ASSERT_TRUE(listeners.is_array() && listeners.size() == 2) << listeners.dump();
  const auto& http = listeners[0];
  EXPECT_EQ(http["name"], "web");
  EXPECT_EQ(http["mode"], "http");
  EXPECT_EQ(http["address"], balancer.listeners()[0].address);
  EXPECT_EQ(http["unmatched"], "404");
  ASSERT_EQ(http["routes"].size(), 3u);
  EXPECT_EQ(http["routes"][0]["match"], (nlohmann::json{{"host", "api.example.com"}, {"path", "/v1/*"}}));
  EXPECT_EQ(http["routes"][0]["rule"], "host api.example.com, path /v1/*");
  EXPECT_EQ(http["routes"][0]["pool"], "api");
  EXPECT_EQ(http["routes"][1]["strip_prefix"], "/static");
  EXPECT_EQ(http["routes"][2]["rule"], "header x-env: blue");
  const auto& tcp = listeners[1];
  EXPECT_EQ(tcp["mode"], "tcp");
  EXPECT_FALSE(tcp.contains("unmatched"));
  ASSERT_EQ(tcp["routes"].size(), 1u);
  EXPECT_EQ(tcp["routes"][0]["rule"], "*");
  EXPECT_EQ(tcp["routes"][0]["pool"], "static");
  balancer.stop();
}

}  // namespace
}  // namespace fulcrum::test
