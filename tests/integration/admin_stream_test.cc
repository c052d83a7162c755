// The admin event stream over a real Balancer: Server-Sent Events and WebSocket clients both see
// a backend's health change (a stopped backend → `unhealthy`), the kinds filter, WebSocket
// ping/pong and close.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin_test_config.h"
#include "fulcrum/balancer.h"
#include "support/http_backend.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

std::string masked_frame(std::uint8_t first, std::string_view payload) {
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string frame;
  frame += static_cast<char>(first);
  frame += static_cast<char>(0x80 | payload.size());  // tests send < 126 bytes
  frame.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

/// Reads one unmasked server frame: opcode and payload (opcode 0 on timeout).
std::pair<int, std::string> read_frame(Client& client, std::chrono::milliseconds timeout = 5s) {
  const std::string header = client.read_exactly(2, timeout);
  if (header.size() < 2) return {0, ""};
  std::size_t size = static_cast<std::uint8_t>(header[1]) & 0x7f;
  if (size == 126) {
    const std::string extended = client.read_exactly(2, timeout);
    size = static_cast<std::uint8_t>(extended[0]) * 256u + static_cast<std::uint8_t>(extended[1]);
  } else if (size == 127) {
    const std::string extended = client.read_exactly(8, timeout);
    size = 0;
    for (const char c : extended) size = size * 256 + static_cast<std::uint8_t>(c);
  }
  return {static_cast<std::uint8_t>(header[0]) & 0x0f, client.read_exactly(size, timeout)};
}

TEST(AdminStream, ServerSentEventsDeliverAHealthChange) {
  HttpBackend a("a"), b("b");
  Balancer balancer(checked_pool_config(a.address(), b.address()));
  ASSERT_TRUE(balancer.start().ok());
  auto sse = Client::connect(balancer.admin_address());
  ASSERT_TRUE(sse.valid());
  ASSERT_TRUE(sse.send_all("GET /api/events?kinds=unhealthy,recovery HTTP/1.1\r\nHost: admin\r\n\r\n"));
  const std::string head = sse.read_until("\r\n\r\n: connected\n\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(head.find(": connected"), std::string::npos);

  std::this_thread::sleep_for(300ms);  // both backends checked healthy first
  b.stop();
  const std::string event = sse.read_until("\n\n", 5s);
  ASSERT_EQ(event.rfind("event: unhealthy\ndata: ", 0), 0u) << event;
  const auto json = nlohmann::json::parse(event.substr(event.find("data: ") + 6));
  EXPECT_EQ(json["event"], "unhealthy");
  EXPECT_EQ(json["pool"], "api");
  EXPECT_EQ(json["backend"], b.address());
  EXPECT_TRUE(json.contains("time"));

  // The admin API shows it too.
  auto api = Client::connect(balancer.admin_address());
  api.send_all("GET /api/pools/api HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
  const std::string answer = api.read_to_eof();
  const auto pool = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
  EXPECT_EQ(pool["backends"][1]["state"], "unhealthy") << pool.dump();
  EXPECT_EQ(pool["backends"][0]["state"], "healthy");
  balancer.stop();
}

TEST(AdminStream, WebSocketDeliversAHealthChange) {
  HttpBackend a("a"), b("b");
  Balancer balancer(checked_pool_config(a.address(), b.address()));
  ASSERT_TRUE(balancer.start().ok());
  auto ws = Client::connect(balancer.admin_address());
  ASSERT_TRUE(ws.valid());
  ASSERT_TRUE(ws.send_all("GET /api/events?kinds=unhealthy HTTP/1.1\r\nHost: admin\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n"));
  const std::string head = ws.read_until("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << head;

  ASSERT_TRUE(ws.send_all(masked_frame(0x89, "hello?")));
  const auto pong = read_frame(ws);
  EXPECT_EQ(pong.first, 0xA);
  EXPECT_EQ(pong.second, "hello?");

  std::this_thread::sleep_for(300ms);
  b.stop();
  const auto frame = read_frame(ws);
  ASSERT_EQ(frame.first, 0x1) << "a text frame";
  const auto json = nlohmann::json::parse(frame.second);
  EXPECT_EQ(json["event"], "unhealthy");
  EXPECT_EQ(json["backend"], b.address());

  ASSERT_TRUE(ws.send_all(masked_frame(0x88, std::string("\x03\xe8", 2))));
  const auto close = read_frame(ws);
  EXPECT_EQ(close.first, 0x8);
  EXPECT_EQ(close.second, std::string("\x03\xe8", 2));
  EXPECT_TRUE(ws.closed_by_peer());
  balancer.stop();
}

TEST(AdminStream, BadStreamRequests) {
  HttpBackend a("a"), b("b");
  Balancer balancer(checked_pool_config(a.address(), b.address()));
  ASSERT_TRUE(balancer.start().ok());
  auto unknown = Client::connect(balancer.admin_address());
  unknown.send_all("GET /api/events?kinds=nonsense HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(unknown.read_to_eof().rfind("HTTP/1.1 400", 0), 0u);
  auto old_ws = Client::connect(balancer.admin_address());
  old_ws.send_all("GET /api/events HTTP/1.1\r\nHost: admin\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  EXPECT_EQ(old_ws.read_to_eof().rfind("HTTP/1.1 426", 0), 0u);
  balancer.stop();
}

}  // namespace
}  // namespace fulcrum::test
