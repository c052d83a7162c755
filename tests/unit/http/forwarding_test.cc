// The heads Fulcrum forwards, byte for byte: request heads towards a backend and response heads
// towards a client, each parsed first by the real parsers, as the session does.
#include "http/forwarding.h"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "http/request_parser.h"
#include "http/response_parser.h"

namespace fulcrum::http {
namespace {

// What Fulcrum appends to a request for Host `h` from 203.0.113.7 over http, when the client sent
// no X-Request-Id, no X-Forwarded-* and no Forwarded.
constexpr std::string_view kAddedForH =
    "X-Forwarded-For: 203.0.113.7\r\n"
    "X-Forwarded-Proto: http\r\n"
    "X-Forwarded-Host: h\r\n"
    "Forwarded: for=203.0.113.7;host=h;proto=http\r\n"
    "X-Request-Id: gen-id\r\n"
    "\r\n";

struct RequestCase {
  const char* name;
  std::string input;
  std::string expected;
  std::string_view strip_prefix = {};
  bool upgrade = false;
  std::string_view client = "203.0.113.7";
  std::string_view default_host = {};
  std::string_view scheme = "http";
};

// gtest prints a failing parameter by name instead of dumping its bytes.
void PrintTo(const RequestCase& test, std::ostream* os) { *os << test.name; }

std::string operator+(std::string_view a, std::string_view b) {
  std::string joined(a);
  joined.append(b);
  return joined;
}

const std::vector<RequestCase>& request_cases() {
  static const std::vector<RequestCase> cases = {
      {"PlainGet",
       "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
       "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
       "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: example.com\r\n"
       "Forwarded: for=203.0.113.7;host=example.com;proto=http\r\nX-Request-Id: gen-id\r\n\r\n"},
      {"FieldNamesKeepTheirCase",
       "GET / HTTP/1.1\r\nhOsT: h\r\nx-lower: 1\r\nX-UPPER: 2\r\n\r\n",
       "GET / HTTP/1.1\r\nhOsT: h\r\nx-lower: 1\r\nX-UPPER: 2\r\n" + kAddedForH},
      {"FixedHopByHopFieldsRemoved",
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
       "Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Kept: 2\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Kept: 2\r\n" + kAddedForH},
      {"HopByHopMatchedIgnoringCase",
       "GET / HTTP/1.1\r\nHost: h\r\nCONNECTION: close\r\nkeep-ALIVE: 1\r\nproxy-connection: close\r\n"
       "te: trailers\r\nUPGRADE: x\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"FieldsNamedByConnectionRemoved",
       "GET / HTTP/1.1\r\nHost: h\r\nx-secret: 1\r\nConnection: X-Secret\r\nX-Kept: 2\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Kept: 2\r\n" + kAddedForH},
      {"SeveralConnectionFieldsAndSpacedTokens",
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-A ,  x-b\r\nx-a: 1\r\nX-B: 2\r\nconnection: close\r\n"
       "X-c: 3\r\nCONNECTION: ,X-C,\r\nX-D: 4\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-D: 4\r\n" + kAddedForH},
      {"ConnectionCannotRemoveFramingOrHost",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: Content-Length, Host\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n" + kAddedForH},
      {"RepeatedContentLengthForwardedOnce",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-A: 1\r\ncontent-length: 3\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-A: 1\r\n" + kAddedForH},
      {"ContentLengthListForwardedAsOneValue",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3 , 3\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n" + kAddedForH},
      {"ConnectionCannotRemoveTransferEncoding",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: transfer-encoding\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" + kAddedForH},
      {"ManyConnectionOptionsStillAllRemoved",
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: o1, o2, o3, o4, o5, o6, o7, o8, o9, o10\r\n"
       "Connection: o11, o12, o13, o14, o15, o16, o17, o18, o19, o20\r\n"
       "O1: x\r\nO17: x\r\no20: x\r\nO21: kept\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nO21: kept\r\n" + kAddedForH},
      {"ProxyAuthorizationAndTrailerForwarded",
       "POST / HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic eDp5\r\nTransfer-Encoding: chunked\r\n"
       "Trailer: X-Sum\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic eDp5\r\nTransfer-Encoding: chunked\r\n"
       "Trailer: X-Sum\r\n" +
           kAddedForH},
      {"XForwardedForOneExisting",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
       "X-Forwarded-Host: h\r\nForwarded: for=203.0.113.7;host=h;proto=http\r\nX-Request-Id: gen-id\r\n\r\n"},
      {"XForwardedForTwoFieldsCombinedInOrder",
       "GET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.1, 198.51.100.2\r\nHost: h\r\n"
       "x-forwarded-for: 192.0.2.9\r\nAccept: a\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\n"
       "X-Forwarded-For: 198.51.100.1, 198.51.100.2, 192.0.2.9, 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
       "X-Forwarded-Host: h\r\nForwarded: for=203.0.113.7;host=h;proto=http\r\nX-Request-Id: gen-id\r\n\r\n"},
      {"XForwardedForEmptyValueSkipped",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For:\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
       "X-Forwarded-Host: h\r\nForwarded: for=203.0.113.7;host=h;proto=http\r\nX-Request-Id: gen-id\r\n\r\n"},
      {"XForwardedForNamedByConnectionIsNotTrusted",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.9.9.9\r\nConnection: x-forwarded-for\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"XForwardedForIpv6Client",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.1, 2001:db8::1\r\nX-Forwarded-Proto: http\r\n"
       "X-Forwarded-Host: h\r\nForwarded: for=\"[2001:db8::1]\";host=h;proto=http\r\nX-Request-Id: gen-id\r\n\r\n",
       {}, false, "2001:db8::1"},
      {"ForwardedAppendedToExistingElements",
       "GET / HTTP/1.1\r\nHost: example.com\r\nForwarded: for=192.0.2.60;proto=https;by=203.0.113.43\r\n"
       "Forwarded: for=\"[2001:db8:cafe::17]:4711\"\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
       "X-Forwarded-Host: example.com\r\nForwarded: for=192.0.2.60;proto=https;by=203.0.113.43, "
       "for=\"[2001:db8:cafe::17]:4711\", for=203.0.113.7;host=example.com;proto=http\r\n"
       "X-Request-Id: gen-id\r\n\r\n"},
      {"ForwardedIpv6ClientAndHostWithPortQuoted",
       "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: example.com:8080\r\nX-Forwarded-For: 2001:db8::1\r\nX-Forwarded-Proto: https\r\n"
       "X-Forwarded-Host: example.com:8080\r\n"
       "Forwarded: for=\"[2001:db8::1]\";host=\"example.com:8080\";proto=https\r\nX-Request-Id: gen-id\r\n\r\n",
       {}, false, "2001:db8::1", {}, "https"},
      {"UnknownClient",
       "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: unknown\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
       "Forwarded: for=unknown;host=h;proto=http\r\nX-Request-Id: gen-id\r\n\r\n",
       {}, false, ""},
      {"XForwardedProtoAndHostReplaced",
       "GET / HTTP/1.1\r\nX-Forwarded-Proto: https\r\nHost: h\r\nX-Forwarded-Host: evil.example\r\n"
       "x-forwarded-proto: gopher\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"XRequestIdKept",
       "GET / HTTP/1.1\r\nHost: h\r\nx-request-id: client-42\r\nAccept: a\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nx-request-id: client-42\r\nAccept: a\r\nX-Forwarded-For: 203.0.113.7\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nForwarded: for=203.0.113.7;host=h;proto=http\r\n\r\n"},
      {"XRequestIdNamedByConnectionReplaced",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: hop\r\nConnection: X-Request-Id\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"StripPrefixKeepsQuery",
       "GET /api/users?id=7&x HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET /users?id=7&x HTTP/1.1\r\nHost: h\r\n" + kAddedForH, "/api"},
      {"StripPrefixWithTrailingSlashKeepsTheSlash",
       "GET /api/users HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET /users HTTP/1.1\r\nHost: h\r\n" + kAddedForH, "/api/"},
      {"StripPrefixLeavingNothingSendsRoot",
       "GET /api?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET /?q=1 HTTP/1.1\r\nHost: h\r\n" + kAddedForH, "/api"},
      {"StripPrefixNotMatchingLeavesPath",
       "GET /apx/users HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET /apx/users HTTP/1.1\r\nHost: h\r\n" + kAddedForH, "/api"},
      {"EmptyQueryKeepsQuestionMark",
       "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET /a? HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"AbsoluteFormRewrittenAndAuthorityReplacesHost",
       "GET http://h/p/q?x=1 HTTP/1.1\r\nHost: other.example\r\nAccept: a\r\n\r\n",
       "GET /p/q?x=1 HTTP/1.1\r\nHost: h\r\nAccept: a\r\n" + kAddedForH},
      {"AbsoluteFormWithoutPathAndStripPrefix",
       "GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\n" + kAddedForH, "/api"},
      {"AbsoluteFormHttp10WithoutHostGetsTheAuthority",
       "GET http://h/x HTTP/1.0\r\n\r\n",
       "GET /x HTTP/1.1\r\nHost: h\r\n" + kAddedForH, {}, false, "203.0.113.7", "10.0.0.5:8080"},
      {"Http10WithoutHostGetsTheBackendAuthority",
       "GET /x HTTP/1.0\r\nAccept: a\r\nConnection: keep-alive\r\n\r\n",
       "GET /x HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nAccept: a\r\nX-Forwarded-For: 203.0.113.7\r\n"
       "X-Forwarded-Proto: http\r\nForwarded: for=203.0.113.7;proto=http\r\nX-Request-Id: gen-id\r\n\r\n",
       {}, false, "203.0.113.7", "10.0.0.5:8080"},
      {"Http10WithHostKeepsIt",
       "GET /x HTTP/1.0\r\nHost: h\r\n\r\n",
       "GET /x HTTP/1.1\r\nHost: h\r\n" + kAddedForH, {}, false, "203.0.113.7", "10.0.0.5:8080"},
      {"Http10ExpectDropped",
       "POST /x HTTP/1.0\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n" + kAddedForH},
      {"Http11ExpectKept",
       "POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n" + kAddedForH},
      {"ClientCloseIsNotForwarded",
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"UpgradeKept",
       "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
       "X-Forwarded-Host: h\r\nForwarded: for=203.0.113.7;host=h;proto=http\r\nX-Request-Id: gen-id\r\n"
       "Connection: upgrade\r\n\r\n",
       {}, true},
      {"UpgradeNotForwardedWhenTheSessionDeclines",
       "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       "GET /ws HTTP/1.1\r\nHost: h\r\n" + kAddedForH},
      {"AsteriskFormAsReceived",
       "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
       "OPTIONS * HTTP/1.1\r\nHost: h\r\n" + kAddedForH, "/api"},
      {"NoSchemeNoProto",
       "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Host: h\r\n"
       "Forwarded: for=203.0.113.7;host=h\r\nX-Request-Id: gen-id\r\n\r\n",
       {}, false, "203.0.113.7", {}, ""},
  };
  return cases;
}

class RequestForwardingTable : public ::testing::TestWithParam<RequestCase> {};

TEST_P(RequestForwardingTable, WritesExactHead) {
  const RequestCase& test = GetParam();
  RequestParser parser;
  const ParseResult result = parser.parse(test.input);
  ASSERT_EQ(result.status, ParseStatus::Complete) << result.error.reason;

  RequestForwarding forwarding;
  forwarding.client_address = test.client;
  forwarding.scheme = test.scheme;
  forwarding.strip_prefix = test.strip_prefix;
  forwarding.upgrade = test.upgrade;
  forwarding.request_id = "gen-id";
  forwarding.default_host = test.default_host;
  std::string out = "previous bytes|";
  write_request_head(out, parser.head(), forwarding);
  EXPECT_EQ(out, "previous bytes|" + test.expected);

  // What Fulcrum writes is itself a valid request head, and exactly one.
  RequestParser reparser;
  const std::string written = out.substr(15);
  const ParseResult again = reparser.parse(written);
  ASSERT_EQ(again.status, ParseStatus::Complete) << again.error.reason;
  EXPECT_EQ(again.head_length, written.size());
  EXPECT_EQ(reparser.head().version, HttpVersion::Http11);
}

INSTANTIATE_TEST_SUITE_P(Cases, RequestForwardingTable, ::testing::ValuesIn(request_cases()),
                         [](const ::testing::TestParamInfo<RequestCase>& info) { return info.param.name; });

std::string_view forward_request(const std::string& input, std::string& out, const RequestForwarding& forwarding,
                                 RequestParser& parser) {
  EXPECT_EQ(parser.parse(input).status, ParseStatus::Complete);
  return write_request_head(out, parser.head(), forwarding);
}

TEST(RequestForwarding, ReturnsTheRequestIdTheBackendReceives) {
  RequestForwarding forwarding;
  forwarding.client_address = "192.0.2.1";
  forwarding.request_id = "generated";
  std::string out;
  RequestParser with_id;
  EXPECT_EQ(forward_request("GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: mine\r\nX-Request-Id: second\r\n\r\n", out,
                            forwarding, with_id),
            "mine");
  RequestParser without_id;
  EXPECT_EQ(forward_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n", out, forwarding, without_id), "generated");
  RequestParser no_generated;
  forwarding.request_id = {};
  out.clear();
  EXPECT_EQ(forward_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n", out, forwarding, no_generated), "");
  EXPECT_EQ(out.find("X-Request-Id"), std::string::npos);
}

TEST(RequestForwarding, DoesNotReallocateABufferWithCapacity) {
  const std::string input =
      "POST /api/items?x=1 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: test\r\nAccept: */*\r\n"
      "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Forwarded-For: 198.51.100.1\r\n"
      "Forwarded: for=198.51.100.1\r\nContent-Length: 10\r\n\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.parse(input).status, ParseStatus::Complete);
  RequestForwarding forwarding;
  forwarding.client_address = "2001:db8::1";
  forwarding.strip_prefix = "/api";
  forwarding.request_id = "0123456789abcdef0123456789abcdef";
  std::string out;
  out.reserve(4096);
  const char* data = out.data();
  const std::size_t capacity = out.capacity();
  for (int i = 0; i < 3; ++i) {
    out.clear();
    write_request_head(out, parser.head(), forwarding);
  }
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.capacity(), capacity);
  EXPECT_NE(out.find("POST /items?x=1 HTTP/1.1\r\n"), std::string::npos);
}

// ---- Responses ----

struct ResponseCase {
  const char* name;
  std::string input;
  std::string expected;
  HttpVersion client_version = HttpVersion::Http11;
  bool close = false;
  bool dechunk = false;
  std::string_view set_cookie = {};
};

void PrintTo(const ResponseCase& test, std::ostream* os) { *os << test.name; }

const std::vector<ResponseCase>& response_cases() {
  static const std::vector<ResponseCase> cases = {
      {"PlainKeepAliveTo11",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n"},
      {"HopByHopRemoved",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Backend\r\nKeep-Alive: timeout=5\r\n"
       "x-backend: b1\r\nProxy-Connection: keep-alive\r\nTE: x\r\nUpgrade: h2c\r\nServer: s\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n"},
      {"SeveralConnectionFields",
       "HTTP/1.1 200 OK\r\nconnection: X-A\r\nX-A: 1\r\nX-B: 2\r\nCONNECTION: x-b , X-C\r\nX-C: 3\r\n"
       "X-D: 4\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 200 OK\r\nX-D: 4\r\nContent-Length: 0\r\n\r\n"},
      {"ConnectionCannotRemoveContentLength",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Content-Length\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"},
      {"RepeatedContentLengthForwardedOnce",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\nContent-Length: 2\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n"},
      {"ContentLengthListForwardedAsOneValue",
       "HTTP/1.1 200 OK\r\nContent-Length: 2,2\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"},
      {"CloseTo11",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", HttpVersion::Http11, true},
      {"KeepAliveTo10",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", HttpVersion::Http10},
      {"CloseTo10",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", HttpVersion::Http10, true},
      {"Http10BackendAnswersAs11",
       "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"},
      {"SetCookieAddedAfterTheBackendsOwn",
       "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n\r\n",
       "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\nSet-Cookie: fulcrum=b2; Path=/; HttpOnly\r\n"
       "Connection: close\r\n\r\n",
       HttpVersion::Http11, true, false, "fulcrum=b2; Path=/; HttpOnly"},
      {"SwitchingProtocolsKeepsUpgrade",
       "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nConnection: upgrade\r\n\r\n"},
      {"InterimSaysNothingAboutTheConnection",
       "HTTP/1.1 100 Continue\r\n\r\n",
       "HTTP/1.1 100 Continue\r\n\r\n", HttpVersion::Http11, true},
      {"EarlyHintsKeepsLinks",
       "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nUpgrade: x\r\n\r\n",
       "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"},
      {"ChunkedTo11KeepsFramingAndTrailer",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"},
      {"DechunkedTo10DropsTransferEncodingAndCloses",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nServer: s\r\n\r\n",
       "HTTP/1.1 200 OK\r\nServer: s\r\nConnection: close\r\n\r\n", HttpVersion::Http10, false, true},
      {"UntilCloseWithCodingTo10DropsTransferEncoding",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
       "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", HttpVersion::Http10, true},
      {"EmptyReasonGetsTheStandardPhrase",
       "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
      {"UnknownStatusWithoutReasonKeepsTheSpace",
       "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n"},
      {"BackendReasonKept",
       "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n"},
      {"ProxyAuthenticateForwarded",
       "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"},
  };
  return cases;
}

class ResponseForwardingTable : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(ResponseForwardingTable, WritesExactHead) {
  const ResponseCase& test = GetParam();
  ResponseParser parser;
  const ParseResult result = parser.parse(test.input);
  ASSERT_EQ(result.status, ParseStatus::Complete) << result.error.reason;

  ResponseForwarding forwarding;
  forwarding.client_version = test.client_version;
  forwarding.close = test.close;
  forwarding.dechunk = test.dechunk;
  forwarding.set_cookie = test.set_cookie;
  std::string out = "x";
  write_response_head(out, parser.head(), forwarding);
  EXPECT_EQ(out, "x" + test.expected);

  ResponseParser reparser;
  const std::string written = out.substr(1);
  const ParseResult again = reparser.parse(written);
  ASSERT_EQ(again.status, ParseStatus::Complete) << again.error.reason;
  EXPECT_EQ(again.head_length, written.size());
}

INSTANTIATE_TEST_SUITE_P(Cases, ResponseForwardingTable, ::testing::ValuesIn(response_cases()),
                         [](const ::testing::TestParamInfo<ResponseCase>& info) { return info.param.name; });

TEST(ResponseForwarding, DoesNotReallocateABufferWithCapacity) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nServer: s\r\nConnection: keep-alive\r\nContent-Type: text/html\r\n"
      "Content-Length: 1234\r\n\r\n";
  ResponseParser parser;
  ASSERT_EQ(parser.parse(input).status, ParseStatus::Complete);
  ResponseForwarding forwarding;
  forwarding.client_version = HttpVersion::Http10;
  forwarding.set_cookie = "fulcrum=0123456789abcdef; Path=/; HttpOnly";
  std::string out;
  out.reserve(2048);
  const char* data = out.data();
  for (int i = 0; i < 3; ++i) {
    out.clear();
    write_response_head(out, parser.head(), forwarding);
  }
  EXPECT_EQ(out.data(), data);
  EXPECT_NE(out.find("Connection: keep-alive\r\n\r\n"), std::string::npos);
}

// ---- Request ids ----

TEST(RequestIdForwarding, Is32LowercaseHexDigits) {
  balance::Random random(42);
  const RequestId id = generate_request_id(random);
  EXPECT_EQ(id.view().size(), 32u);
  for (char c : id.view()) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}

TEST(RequestIdForwarding, IsDeterministicPerSeedAndDistinctAcrossDraws) {
  balance::Random first(7);
  balance::Random second(7);
  EXPECT_EQ(std::string(generate_request_id(first).view()), std::string(generate_request_id(second).view()));

  balance::Random random(7);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(std::string(generate_request_id(random).view()));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RequestIdForwarding, EncodesBothWordsLowNibbleFirst) {
  balance::Random reference(99);
  const std::uint64_t a = reference.next();
  const std::uint64_t b = reference.next();
  std::string expected;
  for (std::uint64_t word : {a, b}) {
    for (int i = 0; i < 16; ++i) expected.push_back("0123456789abcdef"[(word >> (4 * i)) & 0xf]);
  }
  balance::Random random(99);
  EXPECT_EQ(std::string(generate_request_id(random).view()), expected);
}

}  // namespace
}  // namespace fulcrum::http
