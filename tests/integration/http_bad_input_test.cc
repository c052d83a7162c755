// Requests Fulcrum must refuse (docs/http-parsing.md): each gets its status, the connection is
// closed after the answer, and nothing reaches a backend — not even the valid request pipelined
// behind the bad one (a proxy that forwarded it would be open to request smuggling). And framing
// that Fulcrum accepts but must pass on in one reading only (a repeated Content-Length).
#include <gtest/gtest.h>

#include <thread>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/scripted_backend.h"

namespace fulcrum::test {
namespace {

constexpr const char* kLimits =
    "    max_header_size: 4k\n"
    "    max_headers: 20\n"
    "    max_body: 1k\n";

struct BadCase {
  const char* name;
  std::string request;  // a pipelined valid GET is appended
  int status;
};

std::string post(const std::string& fields, const std::string& body = "") {
  return "POST /submit HTTP/1.1\r\nHost: example.test\r\n" + fields + "\r\n" + body;
}
std::string get_with(const std::string& fields) { return "GET / HTTP/1.1\r\nHost: example.test\r\n" + fields + "\r\n"; }

std::vector<BadCase> bad_cases() {
  std::string many_fields;
  for (int i = 0; i < 25; ++i) many_fields += "X-F" + std::to_string(i) + ": v\r\n";
  const std::string big_value(1500, 'v');
  return {
      {"ContentLengthWithTransferEncoding", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400},
      {"TransferEncodingWithContentLength", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400},
      {"DifferingContentLengths", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400},
      {"DifferingContentLengthList", post("Content-Length: 5, 6\r\n", "hello!"), 400},
      {"ContentLengthWithSign", post("Content-Length: +5\r\n", "hello"), 400},
      {"ContentLengthHex", post("Content-Length: 0x5\r\n", "hello"), 400},
      {"ContentLengthWithInnerSpace", post("Content-Length: 1 2\r\n", "hello"), 400},
      {"ContentLengthNotANumber", post("Content-Length: abc\r\n", "hello"), 400},
      {"ContentLengthEmpty", post("Content-Length:\r\n", "hello"), 400},
      {"ContentLengthOverflow", post("Content-Length: 99999999999999999999999\r\n", "hello"), 400},
      {"TransferEncodingNotEndingInChunked", post("Transfer-Encoding: gzip\r\n", "hello"), 400},
      {"TransferEncodingChunkedThenGzip", post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), 400},
      {"TransferEncodingChunkedTwice", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400},
      {"TransferEncodingUnknownCoding", post("Transfer-Encoding: br, chunked\r\n", "0\r\n\r\n"), 501},
      {"TransferEncodingInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"ObsFold", get_with("X-Long: first\r\n second\r\n"), 400},
      {"WhitespaceBeforeColon", "GET / HTTP/1.1\r\nHost : example.test\r\n\r\n", 400},
      {"NulInValue", get_with(std::string("X-A: a\0b\r\n", 10)), 400},
      {"BareCrInValue", get_with("X-A: a\rb\r\n"), 400},
      {"ControlByteInValue", get_with("X-A: a\x01" "b\r\n"), 400},
      {"DelInValue", get_with("X-A: a\x7f" "b\r\n"), 400},
      {"BareLfLineEnd", "GET / HTTP/1.1\nHost: example.test\n\n", 400},
      {"MissingHostOnHttp11", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400},
      {"RepeatedHost", "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", 400},
      {"VersionHttp20", "GET / HTTP/2.0\r\nHost: example.test\r\n\r\n", 400},
      {"VersionHttp12", "GET / HTTP/1.2\r\nHost: example.test\r\n\r\n", 400},
      {"VersionLowercase", "GET / http/1.1\r\nHost: example.test\r\n\r\n", 400},
      {"TwoSpacesInRequestLine", "GET  / HTTP/1.1\r\nHost: example.test\r\n\r\n", 400},
      {"NotHttpAtAll", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400},
      {"UnsupportedExpectation", get_with("Expect: teapot\r\n"), 417},
      {"UriTooLong", "GET /" + std::string(6000, 'a') + " HTTP/1.1\r\nHost: example.test\r\n\r\n", 414},
      {"HeadersTooLarge", get_with("X-A: " + big_value + "\r\nX-B: " + big_value + "\r\nX-C: " + big_value + "\r\n"),
       431},
      {"TooManyHeaders", get_with(many_fields), 431},
      {"BodyOverMaxBodyByContentLength", post("Content-Length: 2000\r\n"), 413},
  };
}

class HttpBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(HttpBadInput, IsAnsweredWithItsStatusClosedAndReachesNoBackend) {
  const BadCase& bad = GetParam();
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = kLimits}));
  Client client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all(bad.request + get_request("/smuggled")));
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_EQ(status_of(answer), bad.status) << answer;
  EXPECT_EQ(answer.find("HTTP/", 1), std::string::npos) << "more than one response:\n" << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(closed) << "the connection stayed open after the error";
  EXPECT_EQ(backend.accepted(), 0u) << "a rejected request reached a backend";
  EXPECT_EQ(backend.heads(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Http, HttpBadInput, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// A malformed chunk size in the same write as the head: 400, and the backend receives no request.
TEST(HttpBadBody, BadChunkSizeWithTheHeadIs400AndNoRequestReachesTheBackend) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  Client client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.send_all("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" +
                              get_request("/smuggled")));
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_EQ(status_of(answer), 400) << answer;
  EXPECT_TRUE(closed);
  EXPECT_EQ(backend.requests(), 0u) << "the backend received a complete request";
  EXPECT_EQ(backend.heads(), 0u) << "the head was forwarded although the body was already known bad";
}

// A malformed chunk after the head and a first chunk were forwarded: the client gets 400, and the
// backend's connection is cut, so the backend never sees a complete request.
TEST(HttpBadBody, BadChunkSizeAfterTheHeadWasForwardedCutsTheBackendConnection) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  Client client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.send_all("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  for (int i = 0; i < 200 && backend.heads() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(backend.heads(), 1u) << "the head should be forwarded while the body streams";
  ASSERT_TRUE(client.send_all("-1\r\nxx\r\n0\r\n\r\n" + get_request("/smuggled")));
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_EQ(status_of(answer), 400) << answer;
  EXPECT_TRUE(closed);
  for (int i = 0; i < 200 && backend.incomplete_bodies() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(backend.incomplete_bodies(), 1u) << "the backend connection was not cut";
  EXPECT_EQ(backend.requests(), 0u);
  EXPECT_EQ(backend.heads(), 1u) << "the pipelined request reached the backend";
}

// The answer to a body over max_body: 413, the connection closed, no complete request forwarded.
void expect_413_and_nothing_forwarded(Client& client, HttpBackend& backend) {
  bool closed = false;
  const std::string answer = read_all_until_close(client, std::chrono::seconds(5), &closed);
  EXPECT_EQ(status_of(answer), 413) << answer;
  EXPECT_TRUE(closed);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(backend.requests(), 0u) << "a body over max_body reached the backend whole";
}

// A chunked body over max_body, arriving with its head: 413, and the backend never gets a complete
// request (the limit holds before bytes are forwarded, not after).
TEST(HttpBadBody, ChunkedBodyOverMaxBodyIs413) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    max_body: 1k\n"}));
  Client client = Client::connect(fulcrum.address("front"));
  std::string body;
  for (int i = 0; i < 4; ++i) body += "200\r\n" + std::string(512, 'x') + "\r\n";
  body += "0\r\n\r\n";
  ASSERT_TRUE(client.send_all("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
  expect_413_and_nothing_forwarded(client, backend);
}

// The same body arriving chunk by chunk after the head: 413 once the limit is passed.
TEST(HttpBadBody, ChunkedBodyGrowingOverMaxBodyIs413) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    max_body: 1k\n"}));
  Client client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.send_all("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 200 && backend.heads() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (int i = 0; i < 4; ++i) {
    if (!client.send_all("200\r\n" + std::string(512, 'x') + "\r\n")) break;  // the proxy may have closed
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  client.send_all("0\r\n\r\n");
  expect_413_and_nothing_forwarded(client, backend);
}

// A chunked body of exactly max_body data bytes passes: the limit counts body bytes, not the
// chunk framing around them.
TEST(HttpBadBody, ChunkedBodyOfExactlyMaxBodyPasses) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    max_body: 1k\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  std::string body;
  for (int i = 0; i < 4; ++i) body += "100\r\n" + std::string(256, 'z') + "\r\n";
  ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(echo_value(*r, "body-length"), "1024");
}

// A body within max_body passes (the limit is not off by one).
TEST(HttpBadBody, BodyOfExactlyMaxBodyPasses) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    max_body: 1k\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'y')));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(echo_value(*r, "body-length"), "1024");
}

// ------------------------------------------------------------------ framing passed on once

TEST(HttpRepeatedContentLength, ReachesTheBackendAsOneField) {
  // Two equal fields (or a list of equal values) are one length to Fulcrum; forwarding both would
  // leave a recipient that reads them differently free to frame the body otherwise.
  HttpBackend backend("b");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  for (const std::string fields : {"Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5, 5\r\n"}) {
    SCOPED_TRACE(fields);
    auto c = HttpConnection::connect(fulcrum.address("front"));
    ASSERT_TRUE(c.send(post(fields, "hello")));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->head << r->body;
    EXPECT_EQ(head_fields(echoed_head(*r), "Content-Length"), std::vector<std::string>{"5"});
    EXPECT_EQ(echo_value(*r, "body-length"), "5");
  }
}

TEST(HttpRepeatedContentLength, ReachesTheClientAsOneField) {
  ScriptedBackend backend([](const std::string&) {
    return ScriptedBackend::Script{
        ScriptedBackend::Step::send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")};
  });
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(head_fields(r->head, "Content-Length"), std::vector<std::string>{"2"}) << r->head;
  EXPECT_EQ(r->body, "ok");
}

}  // namespace
}  // namespace fulcrum::test
