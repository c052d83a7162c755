// The PROXY protocol in effect: `accept_proxy` listeners take the client's address from the header
// a trusted proxy writes (and close anything else), `send_proxy` pools write it to their backends
// (health checks too). The backend (support/proxy_backend.h) parses the header with the same
// parser and tells what it said.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <thread>

#include "http_test_config.h"
#include "net/address.h"
#include "net/proxy_protocol.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/proxy_backend.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

constexpr const char* kAcceptProxy = "    accept_proxy: true\n    trusted_proxies: [127.0.0.1/32]\n";

/// The header a proxy in front would write for client 203.0.113.7:40000 → 192.0.2.1:443.
std::string fake_client_header(net::ProxyVersion version) {
  std::array<char, net::kProxyEncodeMaxBytes> out{};
  const auto source = net::Address::parse_numeric("203.0.113.7:40000");
  const auto destination = net::Address::parse_numeric("192.0.2.1:443");
  const std::size_t length = net::encode_proxy_header(version, *source, *destination, out);
  return std::string(out.data(), length);
}

std::string send_proxy_key(net::ProxyVersion version) {
  return version == net::ProxyVersion::V1 ? "    send_proxy: v1\n" : "    send_proxy: v2\n";
}

class ProxyBothWays : public ::testing::TestWithParam<net::ProxyVersion> {};

TEST_P(ProxyBothWays, TcpCarriesTheFakeClientToTheBackend) {
  const auto version = GetParam();
  const std::string v = version == net::ProxyVersion::V1 ? "v1" : "v2";
  ProxyBackend backend(ProxyBackend::Mode::Echo);
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()},
                                     .pool_extra = send_proxy_key(version),
                                     .listener_extra = kAcceptProxy}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  // The proxy in front speaks the other version: the backend's header is Fulcrum's own, not the
  // client's passed through. Header and first bytes in one segment: the bytes survive the header.
  const auto other = version == net::ProxyVersion::V1 ? net::ProxyVersion::V2 : net::ProxyVersion::V1;
  ASSERT_TRUE(client.send_all(fake_client_header(other) + "hello\n"));
  EXPECT_EQ(client.read_until("hello\n"), v + " client=203.0.113.7:40000 dst=192.0.2.1:443\nhello\n");
  ASSERT_TRUE(client.send_all("more\n"));
  EXPECT_EQ(client.read_exactly(5), "more\n");
}

TEST_P(ProxyBothWays, HttpCarriesTheFakeClientToTheBackendAndForwardedFor) {
  const auto version = GetParam();
  const std::string v = version == net::ProxyVersion::V1 ? "v1" : "v2";
  ProxyBackend backend(ProxyBackend::Mode::Http);
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()},
                                      .pool_extra = send_proxy_key(version),
                                      .listener_extra = kAcceptProxy}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all(fake_client_header(version)));
  // Two requests on one client connection: with send_proxy, each gets its own backend connection
  // (none is kept for reuse), each starting with the header.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.send_all("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
    const std::string response = client.read_until("xff=203.0.113.7");
    EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
    EXPECT_NE(response.find(v + " client=203.0.113.7:40000 dst=192.0.2.1:443 xff=203.0.113.7"), std::string::npos)
        << response;
  }
  EXPECT_EQ(backend.with_header(), 2u);
  EXPECT_EQ(backend.without_header(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Versions, ProxyBothWays, ::testing::Values(net::ProxyVersion::V1, net::ProxyVersion::V2),
                         [](const auto& info) { return info.param == net::ProxyVersion::V1 ? "V1" : "V2"; });

TEST(ProxyProtocol, SendProxyNamesTheSocketAddressesWithoutAcceptProxy) {
  ProxyBackend backend(ProxyBackend::Mode::Echo);
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .pool_extra = "    send_proxy: v2\n"}));
  auto client = Client::connect_from("127.0.0.3", fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  const std::string line = client.read_until("\n");
  // The client's own address and the listener's address it connected to.
  EXPECT_EQ(line.rfind("v2 client=127.0.0.3:", 0), 0u) << line;
  EXPECT_NE(line.find(" dst=" + fulcrum.address("front") + "\n"), std::string::npos) << line;
}

TEST(ProxyProtocol, LocalHeaderFromTheProxyKeepsTheSocketPeer) {
  ProxyBackend backend(ProxyBackend::Mode::Http);
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = kAcceptProxy}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  std::array<char, net::kProxyEncodeMaxBytes> local{};
  const std::size_t length = net::encode_proxy_local_header(net::ProxyVersion::V2, local);
  // The pool sends no header: the backend closes the connection, Fulcrum answers 502/503.
  ASSERT_TRUE(client.send_all(std::string(local.data(), length) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const std::string response = client.read_until("\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 5", 0), 0u) << response;  // the request itself went through
  EXPECT_TRUE(eventually([&] { return backend.without_header() == 1; }));
}

TEST(ProxyProtocol, UntrustedSourceIsClosedAtOnce) {
  TestBackend echo("backend");
  FulcrumProcess fulcrum(tcp_config({.backends = {echo.address()}, .listener_extra = kAcceptProxy}));
  auto client = Client::connect_from("127.0.0.2", fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  client.send_all(fake_client_header(net::ProxyVersion::V1) + "hello\n");
  EXPECT_TRUE(client.closed_by_peer(2000ms));
  // A trusted source with the same header is served.
  auto trusted = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(trusted.valid());
  ASSERT_TRUE(trusted.send_all(fake_client_header(net::ProxyVersion::V1) + "hello\n"));
  EXPECT_EQ(trusted.read_until("hello\n"), "backend\nhello\n");
  EXPECT_EQ(echo.accepted(), 1u);
}

TEST(ProxyProtocol, AllowAndDenyJudgeTheCarriedClient) {
  TestBackend echo("backend");
  // The proxy (127.0.0.1) is not in `allow`: only the client its header names is judged.
  FulcrumProcess fulcrum(tcp_config({.backends = {echo.address()},
                                     .listener_extra = std::string(kAcceptProxy) + "    allow: [203.0.113.7]\n"}));
  auto allowed = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(allowed.valid());
  ASSERT_TRUE(allowed.send_all(fake_client_header(net::ProxyVersion::V2) + "hello\n"));
  EXPECT_EQ(allowed.read_until("hello\n"), "backend\nhello\n");

  auto refused = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(refused.valid());
  ASSERT_TRUE(refused.send_all("PROXY TCP4 198.51.100.1 192.0.2.1 40000 443\r\nhello\n"));
  EXPECT_TRUE(refused.closed_by_peer(2000ms));
  EXPECT_EQ(echo.accepted(), 1u);
}

TEST(ProxyProtocol, MissingOrMalformedHeaderIsClosed) {
  TestBackend echo("backend");
  FulcrumProcess fulcrum(http_config({.backends = {echo.address()}, .listener_extra = kAcceptProxy}));
  for (const std::string& sent : {std::string("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),   // no header at all
                                 std::string("PROXY TCP4 203.0.113.7 x 1 2\r\n"),     // malformed v1
                                 std::string("PROXY TCP4 203.0.113.7 ")}) {           // cut short by FIN
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(client.send_all(sent));
    client.shutdown_write();
    bool timed_out = false;
    EXPECT_EQ(client.read_to_eof(2000ms, &timed_out), "") << sent;
    EXPECT_FALSE(timed_out) << sent;
  }
  EXPECT_EQ(echo.accepted(), 0u);
}

TEST(ProxyProtocol, HeaderThatNeverCompletesIsClosedAfterThreeSeconds) {
  TestBackend echo("backend");
  FulcrumProcess fulcrum(tcp_config({.backends = {echo.address()}, .listener_extra = kAcceptProxy}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all("PROXY TCP4 203.0.113.7 "));
  // Still waiting well before the deadline, closed once it passed.
  EXPECT_FALSE(client.closed_by_peer(1000ms));
  EXPECT_TRUE(client.closed_by_peer(4000ms));
  EXPECT_EQ(echo.accepted(), 0u);
}

TEST(ProxyProtocol, HealthChecksSendTheHeader) {
  ProxyBackend backend(ProxyBackend::Mode::Http);
  FulcrumProcess fulcrum(http_config(
      {.backends = {backend.address()},
       .pool_extra = "    send_proxy: v1\n    health: { http: { path: /health }, interval: 200ms, timeout: 150ms, rise: 1 }\n"}));
  // The checks reach the backend with a `PROXY UNKNOWN` header before their request.
  EXPECT_TRUE(eventually([&] { return backend.local_headers() >= 2; }));
  EXPECT_EQ(backend.without_header(), 0u);
  for (const auto& said : backend.headers()) EXPECT_EQ(said.rfind("v1 ", 0), 0u) << said;
  // Checks pass, and requests (with their own header) get through.
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  const std::string response = client.read_to_eof();
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("v1 client=127.0.0.1:"), std::string::npos) << response;
}

TEST(ProxyProtocol, TcpHealthChecksSendTheHeader) {
  ProxyBackend backend(ProxyBackend::Mode::Echo);
  FulcrumProcess fulcrum(tcp_config(
      {.backends = {backend.address()}, .pool_extra = "    send_proxy: v2\n    health: { tcp: {}, interval: 200ms, timeout: 150ms }\n"}));
  EXPECT_TRUE(eventually([&] { return backend.local_headers() >= 2; }));
  EXPECT_EQ(backend.without_header(), 0u);
}

}  // namespace
}  // namespace fulcrum::test
