// Backends that are down, hang, hang up or talk nonsense (retries, 502, 503, 504), and clients
// that are slow or idle (header, body and keep-alive timeouts).
#include <gtest/gtest.h>

#include <poll.h>

#include <thread>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

// --------------------------------------------------------------------------------- the backends

TEST(HttpFailover, DeadBackendIsRetriedWithoutAClientError) {
  HttpBackend live("live");
  const std::string dead = reserve_loopback_address();  // nothing listens: connects are refused
  // deactivate_for: 0s keeps offering the dead backend, so every other request meets it.
  FulcrumProcess fulcrum(http_config({.backends = {dead, live.address()}, .pool_extra = "    deactivate_for: 0s\n"}));
  for (int i = 0; i < 50; ++i) {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    auto r = c.get("/new-connection/" + std::to_string(i));
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << "request " << i << ":\n" << r->head << r->body;
    EXPECT_EQ(r->backend(), "live");
  }
  auto c = HttpConnection::connect(fulcrum.address("front"));
  for (int i = 0; i < 50; ++i) {
    auto r = c.get("/keep-alive/" + std::to_string(i));
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << "request " << i;
  }
  EXPECT_EQ(live.requests(), 100u);
}

TEST(HttpFailover, StoppedBackendWithPooledConnectionsIsRetriedWithoutAClientError) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(http_config({.backends = {a.address(), b.address()}}));
  // Warm up: both backends serve, and each worker keeps idle connections to both.
  for (int i = 0; i < 20; ++i) {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    auto r = c.get("/warm");
    ASSERT_TRUE(r && r->status == 200);
  }
  ASSERT_GT(a.requests(), 0u);
  a.stop();  // its pooled connections are closed under the proxy, and new connects are refused
  auto c = HttpConnection::connect(fulcrum.address("front"));
  for (int i = 0; i < 50; ++i) {
    auto r = i % 2 ? c.get("/after-stop") : HttpConnection::connect(fulcrum.address("front")).get("/after-stop");
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << "request " << i << ":\n" << r->head << r->body;
    EXPECT_EQ(r->backend(), "b");
  }
}

TEST(HttpFailover, AllBackendsDeadIs503WithTheUnavailableText) {
  const std::string dead1 = reserve_loopback_address(), dead2 = reserve_loopback_address();
  FulcrumProcess fulcrum(http_config(
      {.backends = {dead1, dead2}, .listener_extra = "    unavailable: \"all backends are down\\n\"\n"}));
  for (int i = 0; i < 3; ++i) {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    auto r = c.get("/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "all backends are down\n");
  }
}

TEST(HttpFailover, HangingBackendIs504AtResponseTimeout) {
  HttpBackend hanging("hanging");
  hanging.set_behaviour(HttpBackend::Behaviour::Hang);
  FulcrumProcess fulcrum(http_config({.backends = {hanging.address()}, .pool_extra = "    response_timeout: 500ms\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  auto r = c.get("/");
  ASSERT_TRUE(r) << "no answer within 5 s";
  EXPECT_EQ(r->status, 504);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(hanging.requests(), 1u) << "a request that timed out must not be retried elsewhere or again";
}

TEST(HttpFailover, BackendClosingBeforeAnsweringIsRetriedOnAnother) {
  HttpBackend closer("closer"), good("good");
  closer.set_behaviour(HttpBackend::Behaviour::CloseBeforeAnswer);
  FulcrumProcess fulcrum(http_config({.backends = {closer.address(), good.address()}, .workers = 1}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  for (int i = 0; i < 20; ++i) {
    auto r = c.get("/idempotent/" + std::to_string(i));
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << "request " << i;
    EXPECT_EQ(r->backend(), "good");
  }
  EXPECT_GT(closer.heads(), 0u) << "the closing backend was never tried: the test proves nothing";
  EXPECT_EQ(good.requests(), 20u);
}

TEST(HttpFailover, EveryBackendClosingBeforeAnsweringIs502NotUnavailable) {
  // 503 says that no backend could be reached; these were reached, took the request and hung up.
  HttpBackend a("a"), b("b");
  a.set_behaviour(HttpBackend::Behaviour::CloseBeforeAnswer);
  b.set_behaviour(HttpBackend::Behaviour::CloseBeforeAnswer);
  FulcrumProcess fulcrum(http_config({.backends = {a.address(), b.address()}, .workers = 1}));
  auto r = HttpConnection::connect(fulcrum.address("front")).get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->head << r->body;
  EXPECT_EQ(r->body, "502 Bad Gateway\n");
  EXPECT_EQ(a.heads(), 1u);  // retried on the other before giving up
  EXPECT_EQ(b.heads(), 1u);
  EXPECT_EQ(fulcrum.count_log("every backend tried failed"), 1u);
  EXPECT_EQ(fulcrum.count_log("no backend available"), 0u);
}

TEST(HttpFailover, PostWhoseBodyWentToABackendThatClosedIs502NotRetried) {
  HttpBackend closer("closer");
  closer.set_behaviour(HttpBackend::Behaviour::CloseBeforeAnswer);
  HttpBackend good("good");
  FulcrumProcess fulcrum(http_config({.backends = {closer.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send("POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(closer.heads(), 1u) << "a non-idempotent request whose body was sent must not be sent again";
}

TEST(HttpFailover, InvalidBackendResponseIs502) {
  HttpBackend broken("broken");
  broken.set_behaviour(HttpBackend::Behaviour::Invalid);
  FulcrumProcess fulcrum(http_config({.backends = {broken.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->body, "502 Bad Gateway\n");
  EXPECT_TRUE(c.closed_by_peer());
}

// ------------------------------------------------------------------------------------ the clients

TEST(HttpClientTimeouts, SlowlorisIsCutAtHeaderTimeoutWith408) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    header_timeout: 1s\n"}));
  Client client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  // 80 bytes at one byte per 200 ms would take 16 s.
  const std::string head = "GET /slow HTTP/1.1\r\nHost: example.test\r\nX-Padding: " + std::string(25, 'p') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 80u);
  std::size_t sent = 0;
  bool answered = false;
  for (; sent < head.size(); ++sent) {
    if (!client.send_all(head.substr(sent, 1))) break;  // the proxy may already have closed
    pollfd p{client.fd(), POLLIN, 0};
    if (poll(&p, 1, 200) == 1) {
      answered = true;
      break;
    }
  }
  ASSERT_TRUE(answered) << "the whole head went out one byte at a time and nobody cut it";
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_EQ(status_of(answer), 408) << answer;
  EXPECT_TRUE(closed);
  // At 200 ms a byte, a 1 s header timeout allows about 5 bytes; cut far before the end.
  EXPECT_LT(sent, head.size() / 2) << "cut only after " << sent << " bytes";
  EXPECT_EQ(backend.accepted(), 0u);
}

TEST(HttpClientTimeouts, SilentNewConnectionIsClosedAtHeaderTimeout) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    header_timeout: 500ms\n"}));
  Client client = Client::connect(fulcrum.address("front"));
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed) << "a connection that never spoke outlived header_timeout";
  EXPECT_TRUE(answer.empty() || status_of(answer) == 408) << answer;
}

TEST(HttpClientTimeouts, IdleKeepAliveClientIsClosedAtKeepaliveTimeout) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()},
                                      .listener_extra = "    keepalive_timeout: 500ms\n    header_timeout: 10s\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  // Requests 200 ms apart keep it open past the timeout...
  for (int i = 0; i < 5; ++i) {
    auto r = c.get("/" + std::to_string(i));
    ASSERT_TRUE(r) << "request " << i << ": the connection was closed while in use";
    ASSERT_EQ(r->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // ...silence between requests closes it, without a response (no request is pending).
  bool closed = false;
  const std::string answer = read_all_until_close(c.client(), std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed) << "an idle keep-alive connection outlived keepalive_timeout";
  EXPECT_EQ(answer, "");
}

TEST(HttpClientTimeouts, StalledBodyIsCutAtBodyTimeout) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    body_timeout: 500ms\n"}));
  Client client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.send_all("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_EQ(status_of(answer), 408) << answer;
  EXPECT_TRUE(closed);
  EXPECT_EQ(backend.requests(), 0u);
}

}  // namespace
}  // namespace fulcrum::test
