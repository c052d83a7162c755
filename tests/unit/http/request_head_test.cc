// Behaviour of the request parser beyond the table: what a session relies on between calls
// (pipelining, sticky results, buffers that move), early rejection, cost, and the head's accessors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/request_parser.h"

namespace fulcrum::http {
namespace {

TEST(RequestParser, PipelinedRequestsParseOneAfterTheOther) {
  const std::string stream =
      "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /2?x HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
  RequestParser parser;
  const ParseResult first = parser.parse(stream);
  ASSERT_EQ(first.status, ParseStatus::Complete);
  EXPECT_EQ(parser.head().target, "/1");
  ASSERT_EQ(parser.head().framing, (BodyFraming{BodyKind::ContentLength, 3}));
  const std::size_t next = first.head_length + 3;
  EXPECT_EQ(stream.substr(first.head_length, 3), "abc");

  parser.reset();
  const ParseResult second = parser.parse(std::string_view(stream).substr(next));
  ASSERT_EQ(second.status, ParseStatus::Complete);
  EXPECT_EQ(second.head_length, stream.size() - next);
  EXPECT_EQ(parser.head().path, "/2");
  EXPECT_EQ(parser.head().query, "x");
  EXPECT_EQ(parser.head().host, "b");
  EXPECT_FALSE(parser.head().keep_alive);
}

TEST(RequestParser, ResultsAreStickyUntilReset) {
  RequestParser parser;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").status, ParseStatus::Complete);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\nmore").head_length, 27u);

  RequestParser failing;
  EXPECT_EQ(failing.parse("GET / HTTP/9.9\r\n").error.status, 400);
  EXPECT_EQ(failing.parse("GET / HTTP/9.9\r\nHost: a\r\n\r\n").status, ParseStatus::Error);
  failing.reset();
  EXPECT_EQ(failing.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").status, ParseStatus::Complete);
}

TEST(RequestParser, RejectsAnotherProtocolAtItsFirstByte) {
  RequestParser parser;
  const ParseResult result = parser.parse(std::string_view("\x16\x03", 2));
  EXPECT_EQ(result.status, ParseStatus::Error);
  EXPECT_EQ(result.error.status, 400);
  EXPECT_EQ(result.error.reason, "invalid method");
}

TEST(RequestParser, RejectsBareLfWithoutWaitingForTheEndOfTheHead) {
  RequestParser parser;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\nHost").error.status, 400);
}

TEST(RequestParser, ReportsLongRequestLineBeforeItEnds) {
  HeadLimits limits;
  limits.max_request_line_bytes = 64;
  RequestParser parser(limits);
  const std::string line = "GET /" + std::string(70, 'a');
  EXPECT_EQ(parser.parse(line).error.status, 414);

  RequestParser exact(limits);
  const std::string fits = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(exact.parse(fits).status, ParseStatus::Complete);
  RequestParser over(limits);
  const std::string one_more = "GET /" + std::string(64 - 13, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(over.parse(one_more).error.status, 414);
}

TEST(RequestParser, HeadLimitIsExactAndMaxHeadersIsConfigurable) {
  HeadLimits limits;
  limits.max_head_bytes = 64;
  limits.max_headers = 2;
  const std::string base = "GET / HTTP/1.1\r\nHost: a\r\nX: ";  // 28 bytes
  const std::string fits = base + std::string(64 - 28 - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 64u);
  RequestParser parser(limits);
  EXPECT_EQ(parser.parse(fits).status, ParseStatus::Complete);
  RequestParser over(limits);
  EXPECT_EQ(over.parse(base + std::string(64 - 28 - 3, 'v') + "\r\n\r\n").error.status, 431);
  RequestParser many(limits);
  EXPECT_EQ(many.parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n").error.status, 431);
}

TEST(RequestParser, ByteByByteFeedingOfALargeHeadIsLinear) {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  while (head.size() < 32 * 1024 - 200) head += "X-Field-" + std::to_string(head.size()) + ": " + std::string(300, 'v') + "\r\n";
  head += "\r\n";
  HeadLimits limits;
  limits.max_head_bytes = 64 * 1024;
  limits.max_headers = 200;
  RequestParser parser(limits);
  ParseResult result;
  for (std::size_t size = 1; size <= head.size(); ++size) {
    result = parser.parse(std::string_view(head).substr(0, size));
    if (result.status != ParseStatus::NeedMore) break;
  }
  ASSERT_EQ(result.status, ParseStatus::Complete) << result.error.reason;
  EXPECT_EQ(result.head_length, head.size());
  // Each byte is looked at once while searching for line ends (plus the method prefix once).
  EXPECT_LE(parser.bytes_examined(), head.size() + 8);
}

TEST(RequestParser, HeaderLookupIsCaseInsensitiveAndKeepsOrder) {
  RequestParser parser;
  const std::string request =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Multi: one\r\nx-multi: two\r\nAccept:  text/html  \r\nEmpty:\r\n\r\n";
  ASSERT_EQ(parser.parse(request).status, ParseStatus::Complete);
  const HeaderList& headers = parser.head().headers;
  ASSERT_EQ(headers.size(), 5u);
  EXPECT_EQ(headers.find("X-MULTI"), "one");
  EXPECT_EQ(headers.count("x-multi"), 2u);
  EXPECT_EQ(headers.find("accept"), "text/html");
  EXPECT_EQ(headers.find("empty"), "");
  EXPECT_FALSE(headers.find("missing").has_value());
  std::vector<std::string> names;
  for (const HeaderField field : headers) names.emplace_back(field.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Host", "X-Multi", "x-multi", "Accept", "Empty"}));
  // Views point into the caller's buffer: zero copy.
  EXPECT_GE(headers[1].value.data(), request.data());
  EXPECT_LT(headers[1].value.data(), request.data() + request.size());
}

TEST(RequestParser, ConnectionNominatesHopByHopFields) {
  RequestParser parser;
  ASSERT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Secret, ,keep-alive\r\n"
                         "connection: Upgrade\r\nUpgrade: h2c\r\nX-Secret: 1\r\n\r\n")
                .status,
            ParseStatus::Complete);
  const RequestHead& head = parser.head();
  EXPECT_TRUE(head.connection_nominates("x-secret"));
  EXPECT_TRUE(head.connection_nominates("UPGRADE"));
  EXPECT_FALSE(head.connection_nominates("host"));
  std::vector<std::string> options;
  head.for_each_connection_option([&](std::string_view option) { options.emplace_back(option); });
  EXPECT_EQ(options, (std::vector<std::string>{"X-Secret", "keep-alive", "Upgrade"}));
  EXPECT_TRUE(head.upgrade_requested);
  EXPECT_EQ(head.upgrade, "h2c");
  EXPECT_EQ(head.method_kind, Method::Get);
}

TEST(RequestParser, ReasonsNameTheBrokenRule) {
  const auto reason = [](const std::string& request) {
    RequestParser parser;
    return std::string(parser.parse(request).error.reason);
  };
  const std::string ok = "GET / HTTP/1.1\r\nHost: a\r\n";
  EXPECT_EQ(reason(ok + "X: a\r\n b\r\n\r\n"), "obsolete line folding");
  EXPECT_EQ(reason(ok + "X : a\r\n\r\n"), "whitespace before colon");
  EXPECT_EQ(reason(ok + "X\x01: a\r\n\r\n"), "invalid character in header name");
  EXPECT_EQ(reason(ok + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "both Content-Length and Transfer-Encoding");
  EXPECT_EQ(reason(ok + "Transfer-Encoding: chunked, chunked\r\n\r\n"), "chunked is not the last transfer coding");
  EXPECT_EQ(reason(ok + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n"), "conflicting Content-Length");
  EXPECT_EQ(reason("GET / HTTP/2.0\r\n"), "unsupported HTTP version");
  EXPECT_EQ(reason("GET / HTTP/1.1\r\n\r\n"), "missing Host");
}

TEST(RequestParser, MethodKinds) {
  EXPECT_EQ(method_from_token("HEAD"), Method::Head);
  EXPECT_EQ(method_from_token("CONNECT"), Method::Connect);
  EXPECT_EQ(method_from_token("OPTIONS"), Method::Options);
  EXPECT_EQ(method_from_token("get"), Method::Other);
  EXPECT_EQ(method_from_token("PURGE"), Method::Other);
}

TEST(ListElements, SkipsEmptyElementsAndTrims) {
  std::vector<std::string> elements;
  for (std::string_view element : ListElements(" a ,, b\t,c,")) elements.emplace_back(element);
  EXPECT_EQ(elements, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ListElements(" , ").begin(), ListElements(" , ").end());
}

}  // namespace
}  // namespace fulcrum::http
