// The HTTP/1.1 reverse proxy over real sockets: keep-alive reuse on both sides, pipelining, the
// route table, and the head the backend receives (forwarded fields, hop-by-hop removal, HTTP/1.0).
#include <gtest/gtest.h>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/nginx.h"

namespace fulcrum::test {
namespace {

// 32 lowercase hex digits (checked by hand: std::regex trips GCC 12's maybe-uninitialized warning
// in the sanitizer build).
bool is_request_id(const std::string& text) {
  return text.size() == 32 &&
         text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(HttpKeepAlive, TwoHundredRequestsOnOneClientConnectionReuseOneBackendConnection) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = 2}));
  auto connection = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(connection.valid());
  for (int i = 0; i < 200; ++i) {
    auto response = connection.get("/r" + std::to_string(i));
    ASSERT_TRUE(response) << "request " << i << " got no response";
    ASSERT_EQ(response->status, 200) << "request " << i;
    ASSERT_EQ(request_line(echoed_head(*response)), "GET /r" + std::to_string(i) + " HTTP/1.1");
    ASSERT_FALSE(response->field("Connection").has_value()) << "a 1.1 keep-alive response needs no Connection field";
  }
  EXPECT_EQ(backend.requests(), 200u);
  // One client connection lives on one worker, which keeps its backend connection for the next
  // request: one connect, allowing one more for a race with the pool's bookkeeping.
  EXPECT_LE(backend.accepted(), 2u) << "the upstream connection was not reused";
}

TEST(HttpKeepAlive, SeveralClientConnectionsShareFewBackendConnections) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = 2}));
  std::vector<HttpConnection> connections;
  for (int c = 0; c < 4; ++c) {
    connections.push_back(HttpConnection::connect(fulcrum.address("front")));
    ASSERT_TRUE(connections.back().valid());
  }
  for (int i = 0; i < 50; ++i) {
    for (int c = 0; c < 4; ++c) {
      auto response = connections[c].get("/c" + std::to_string(c) + "/" + std::to_string(i));
      ASSERT_TRUE(response && response->status == 200) << "connection " << c << " request " << i;
    }
  }
  EXPECT_EQ(backend.requests(), 200u);
  // Requests are sequential, so each worker needs one backend connection at a time: at most
  // workers (2) connections, doubled for slack.
  EXPECT_LE(backend.accepted(), 4u) << "upstream connections are not pooled per worker";
  // The client connections stayed open all along (keep-alive on the client side).
  for (auto& connection : connections) EXPECT_FALSE(connection.closed_by_peer(std::chrono::milliseconds(50)));
}

TEST(HttpKeepAlive, PipelinedRequestsAreAnsweredInOrder) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto connection = HttpConnection::connect(fulcrum.address("front"));
  std::string burst;
  for (int i = 0; i < 5; ++i) burst += get_request("/pipe/" + std::to_string(i));
  ASSERT_TRUE(connection.send(burst));  // one write
  for (int i = 0; i < 5; ++i) {
    auto response = connection.read_response();
    ASSERT_TRUE(response) << "pipelined response " << i << " missing";
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(request_line(echoed_head(*response)), "GET /pipe/" + std::to_string(i) + " HTTP/1.1");
  }
  EXPECT_EQ(backend.requests(), 5u);
  // The connection is still usable afterwards.
  auto after = connection.get("/after");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpKeepAlive, PipelinedRequestWithBodiesAreAnsweredInOrder) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto connection = HttpConnection::connect(fulcrum.address("front"));
  std::string burst;
  burst += "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  burst += "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  burst += get_request("/c");
  ASSERT_TRUE(connection.send(burst));
  Checksum hello, abcde;
  hello.update("hello");
  abcde.update("abcde");
  auto a = connection.read_response();
  auto b = connection.read_response();
  auto c = connection.read_response();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(request_line(echoed_head(*a)), "POST /a HTTP/1.1");
  EXPECT_EQ(echo_value(*a, "body-checksum"), hello.hex());
  EXPECT_EQ(request_line(echoed_head(*b)), "POST /b HTTP/1.1");
  EXPECT_EQ(echo_value(*b, "body-checksum"), abcde.hex());
  EXPECT_EQ(request_line(echoed_head(*c)), "GET /c HTTP/1.1");
  EXPECT_EQ(echo_value(*c, "body-length"), "0");
}

// ------------------------------------------------------------------------------------ routing

// The table: /api/* → api, static.example.com + /assets/* (strip /assets) → static,
// X-Canary: 1 → canary, default → web; a second listener without a default route.
class HttpRouting : public ::testing::Test {
 protected:
  HttpBackend api{"api"}, statics{"static"}, canary{"canary"}, web{"web"};
  std::string yaml() const {
    return "workers: 2\n"
           "listeners:\n"
           "  - name: front\n"
           "    listen: 127.0.0.1:0\n"
           "    mode: http\n"
           "    routes:\n"
           "      - match: { path: /api/* }\n"
           "        pool: api\n"
           "      - match: { host: static.example.com, path: /assets/* }\n"
           "        pool: static\n"
           "        strip_prefix: /assets\n"
           "      - match: { header: { X-Canary: \"1\" } }\n"
           "        pool: canary\n"
           "      - pool: web\n"
           "  - name: nodefault\n"
           "    listen: 127.0.0.1:0\n"
           "    mode: http\n"
           "    routes:\n"
           "      - match: { path: /api/* }\n"
           "        pool: api\n"
           "pools:\n"
           "  api:\n" + backend_list({api.address()}) +
           "  static:\n" + backend_list({statics.address()}) +
           "  canary:\n" + backend_list({canary.address()}) +
           "  web:\n" + backend_list({web.address()});
  }
};

TEST_F(HttpRouting, FollowsTheRouteTable) {
  FulcrumProcess fulcrum(yaml(), 2);
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.valid());

  auto r = c.get("/api/users?id=7");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "api");
  EXPECT_EQ(request_line(echoed_head(*r)), "GET /api/users?id=7 HTTP/1.1");

  r = c.get("/api");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "api");

  r = c.get("/apix");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "web") << "/api/* must not match /apix";

  r = c.get("/assets/a.css", "", "static.example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "static");
  EXPECT_EQ(request_line(echoed_head(*r)), "GET /a.css HTTP/1.1") << "strip_prefix not applied";
  EXPECT_EQ(head_fields(echoed_head(*r), "Host"), std::vector<std::string>{"static.example.com"});

  r = c.get("/assets/a.css?v=2", "", "STATIC.example.com:8080");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "static") << "host match ignores case and port";
  EXPECT_EQ(request_line(echoed_head(*r)), "GET /a.css?v=2 HTTP/1.1");

  r = c.get("/assets/a.css", "", "other.example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "web") << "the static route needs its host";

  r = c.get("/page", "X-Canary: 1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "canary");

  r = c.get("/page", "X-Canary: 2\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "web");

  r = c.get("/api/x", "X-Canary: 1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "api") << "the first matching route wins";

  // Absolute-form: its authority is the host.
  ASSERT_TRUE(c.send("GET http://static.example.com/assets/b.js HTTP/1.1\r\nHost: ignored.example\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), "static");
  EXPECT_EQ(request_line(echoed_head(*r)), "GET /b.js HTTP/1.1");
}

TEST_F(HttpRouting, NoMatchingRouteIs404AndReachesNoBackend) {
  FulcrumProcess fulcrum(yaml(), 2);
  auto c = HttpConnection::connect(fulcrum.address("nodefault"));
  ASSERT_TRUE(c.valid());
  auto r = c.get("/other");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "404 Not Found\n");
  // Fulcrum's own 404 either closes or says keep-alive and serves the next request.
  if (r->field("Connection") == "close") {
    EXPECT_TRUE(c.closed_by_peer());
  } else {
    auto next = c.get("/api/ok");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->backend(), "api");
  }
  EXPECT_EQ(web.accepted() + statics.accepted() + canary.accepted(), 0u);
  EXPECT_EQ(api.heads(), r->field("Connection") == "close" ? 0u : 1u);
}

// Fulcrum's own answer to a later request of a kept-alive connection: the previous exchange's
// response does not count as part of this one (which would cut the connection with a reset).
TEST_F(HttpRouting, A404AfterAServedRequestOnTheSameConnectionIsAnswered) {
  FulcrumProcess fulcrum(yaml(), 2);
  auto c = HttpConnection::connect(fulcrum.address("nodefault"));
  ASSERT_TRUE(c.valid());
  auto served = c.get("/api/first");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  auto r = c.get("/other");
  ASSERT_TRUE(r) << "no answer: the connection was cut";
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "404 Not Found\n");
}

// ------------------------------------------------------------------------- forwarded request head

TEST(HttpForwarding, BackendSeesForwardedFieldsAndNoHopByHopFields) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  auto r = c.get("/fwd",
                 "X-Forwarded-For: 203.0.113.9\r\n"
                 "Forwarded: for=203.0.113.9\r\n"
                 "Connection: foo, keep-alive\r\n"
                 "Foo: bar\r\n"
                 "Keep-Alive: timeout=5\r\n"
                 "TE: trailers\r\n"
                 "Proxy-Connection: keep-alive\r\n"
                 "Upgrade: h2c\r\n"
                 "X-Kept: yes\r\n",
                 "www.example.com");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string head = echoed_head(*r);
  EXPECT_EQ(head_fields(head, "X-Forwarded-For"), std::vector<std::string>{"203.0.113.9, 127.0.0.1"}) << head;
  EXPECT_EQ(head_fields(head, "X-Forwarded-Proto"), std::vector<std::string>{"http"});
  EXPECT_EQ(head_fields(head, "X-Forwarded-Host"), std::vector<std::string>{"www.example.com"});
  EXPECT_EQ(head_fields(head, "Forwarded"),
            std::vector<std::string>{"for=203.0.113.9, for=127.0.0.1;host=www.example.com;proto=http"});
  EXPECT_EQ(head_fields(head, "Host"), std::vector<std::string>{"www.example.com"});
  const auto ids = head_fields(head, "X-Request-Id");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(is_request_id(ids[0])) << ids[0];
  for (const char* hop : {"Connection", "Foo", "Keep-Alive", "TE", "Proxy-Connection", "Upgrade"}) {
    EXPECT_TRUE(head_fields(head, hop).empty()) << hop << " was forwarded:\n" << head;
  }
  EXPECT_EQ(head_fields(head, "X-Kept"), std::vector<std::string>{"yes"});

  // A client's request id is kept, and each request without one gets a fresh one.
  r = c.get("/fwd", "X-Request-Id: abc-123\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(head_fields(echoed_head(*r), "X-Request-Id"), std::vector<std::string>{"abc-123"});
  auto again = c.get("/fwd");
  ASSERT_TRUE(again);
  const auto other_ids = head_fields(echoed_head(*again), "X-Request-Id");
  ASSERT_EQ(other_ids.size(), 1u);
  EXPECT_NE(other_ids[0], ids[0]);
}

TEST(HttpForwarding, NginxSeesTheForwardedFields) {
  ASSERT_TRUE(Nginx::available()) << "nginx is not installed (scripts/install-deps.sh)";
  Nginx nginx;
  ASSERT_TRUE(nginx.running());
  FulcrumProcess fulcrum(http_config({.backends = {nginx.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  auto r = c.get("/headers", "X-Forwarded-For: 198.51.100.1\r\nConnection: foo\r\nFoo: bar\r\nTE: trailers\r\n",
                 "shop.example.com");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("host=shop.example.com\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("xff=198.51.100.1, 127.0.0.1\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("xfp=http\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("xfh=shop.example.com\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("forwarded=for=127.0.0.1;host=shop.example.com;proto=http\n"), std::string::npos) << r->body;
  {
    const auto at = r->body.find("request-id=");
    ASSERT_NE(at, std::string::npos) << r->body;
    EXPECT_TRUE(is_request_id(r->body.substr(at + 11, 32)) && r->body.substr(at + 43, 1) == "\n") << r->body;
  }
  EXPECT_NE(r->body.find("foo=\n"), std::string::npos) << "Foo nominated by Connection reached nginx:\n" << r->body;
  EXPECT_NE(r->body.find("te=\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("connection=\n"), std::string::npos) << r->body;
}

TEST(HttpForwarding, Http10ClientWithoutHostIsServedWithoutChunkedEncoding) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));

  // Without keep-alive: the response is readable by a 1.0 client and the connection closes.
  {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->chunked);
    const std::string head = echoed_head(*r);
    EXPECT_EQ(head_fields(head, "Host").size(), 1u) << "the backend needs a Host:\n" << head;
    EXPECT_TRUE(c.closed_by_peer()) << "a 1.0 request without keep-alive must end with a close";
  }
  // A body the backend would send chunked to a 1.1 client reaches the 1.0 client unchunked.
  {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    ASSERT_TRUE(c.send("GET /stream HTTP/1.0\r\nX-Test: stream-chunked=300000\r\n\r\n"));
    Checksum checksum;
    auto r = c.read_response(std::chrono::seconds(10), [&](std::string_view b) { checksum.update(b); });
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->chunked) << r->head;
    EXPECT_FALSE(r->field("Transfer-Encoding")) << r->head;
    EXPECT_EQ(r->body_size, 300000u);
    EXPECT_EQ(checksum.hex(), pattern_checksum(300000));
  }
  // With keep-alive asked: a length-delimited answer saying keep-alive, and the connection serves
  // the next request.
  {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(c.send("GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto r = c.read_response();
      ASSERT_TRUE(r) << "request " << i;
      EXPECT_EQ(r->status, 200);
      EXPECT_FALSE(r->chunked);
      EXPECT_TRUE(r->field("Content-Length")) << r->head;
      EXPECT_EQ(r->field("Connection").value_or(""), "keep-alive") << r->head;
    }
  }
}

// ----------------------------------------------------------------------------------- edge cases

TEST(HttpEdges, HeadResponsesHaveNoBodyAndTheConnectionGoesOn) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  for (const std::string extra : {"", "X-Test: stream-chunked=100000\r\n", "X-Test: stream-length=100000\r\n"}) {
    SCOPED_TRACE(extra);
    ASSERT_TRUE(c.send("HEAD /h HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n"));
    auto head = c.read_response(std::chrono::seconds(5), {}, /*head_request=*/true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    // The next response on the connection must start right there (no body bytes in between).
    auto next = c.get("/after-head");
    ASSERT_TRUE(next) << "the connection broke after a HEAD";
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(request_line(echoed_head(*next)), "GET /after-head HTTP/1.1");
  }
}

TEST(HttpEdges, ClientHalfCloseAfterTheRequestStillGetsTheWholeResponse) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send(get_request("/half", "X-Test: stream-length=2000000\r\n")));
  c.client().shutdown_write();  // like `printf ... | nc -N`: the request, then our FIN
  Checksum checksum;
  auto r = c.read_response(std::chrono::seconds(10), [&](std::string_view b) { checksum.update(b); });
  ASSERT_TRUE(r) << "the response was cut after the client's FIN";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(checksum.hex(), pattern_checksum(2000000));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpEdges, ConnectionCloseFromTheClientIsHonoured) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send(get_request("/last", "Connection: close\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("Connection").value_or(""), "close") << r->head;
  EXPECT_TRUE(c.closed_by_peer());
  // The backend connection is not the client's: it stays pooled (no Connection: close upstream).
  EXPECT_TRUE(head_fields(echoed_head(*r), "Connection").empty()) << echoed_head(*r);
  auto again = HttpConnection::connect(fulcrum.address("front")).get("/next");
  ASSERT_TRUE(again);
  EXPECT_LE(backend.accepted(), 2u);
}

TEST(HttpEdges, ClientLeavingMidDownloadDoesNotDisturbOthers) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = 1}));
  for (int i = 0; i < 5; ++i) {
    auto leaving = HttpConnection::connect(fulcrum.address("front"));
    ASSERT_TRUE(leaving.send(get_request("/big", "X-Test: stream-chunked=50000000\r\n")));
    ASSERT_FALSE(leaving.client().read_exactly(100000).empty());
    leaving.client().close();  // gone in the middle of the body
    auto other = HttpConnection::connect(fulcrum.address("front"));
    auto r = other.get("/other");
    ASSERT_TRUE(r) << "round " << i;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(fulcrum.process().running());
}

}  // namespace
}  // namespace fulcrum::test
