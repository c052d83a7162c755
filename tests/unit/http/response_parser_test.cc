// The response parser against a table of valid and invalid responses, each fed whole, one byte at
// a time and in random-sized slices (fixed seed); all three must give the same, expected, answer.
#include "http/response_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fulcrum::http {
namespace {

std::string describe(const ParseResult& result, const ResponseHead& head) {
  if (result.status == ParseStatus::NeedMore) return "need-more";
  if (result.status == ParseStatus::Error) return "error " + std::to_string(result.error.status);
  std::ostringstream out;
  out << head.status_code << " reason=" << head.reason << (head.version == HttpVersion::Http11 ? " v1.1" : " v1.0");
  switch (head.framing.kind) {
    case BodyKind::None: out << " body=none"; break;
    case BodyKind::ContentLength: out << " body=cl:" << head.framing.content_length; break;
    case BodyKind::Chunked: out << " body=chunked"; break;
    case BodyKind::UntilClose: out << " body=until-close"; break;
  }
  out << (head.keep_alive ? " keep-alive" : " close");
  if (head.interim) out << " interim";
  if (head.switching_protocols) out << " switching=" << head.upgrade;
  if (head.tunnel) out << " tunnel";
  out << " fields=" << head.headers.size() << " @" << result.head_length;
  return out.str();
}

enum class Feeding { Whole, ByteByByte, RandomSlices };

std::string feed(const std::string& input, Method method, Feeding feeding) {
  ResponseParser parser({}, method);
  if (feeding == Feeding::Whole) {
    const ParseResult result = parser.parse(input);
    return describe(result, parser.head());
  }
  std::mt19937 random(7);
  std::unique_ptr<std::string> buffer;
  std::size_t given = 0;
  ParseResult result;
  while (true) {
    std::size_t step = 1;
    if (feeding == Feeding::RandomSlices) step = std::uniform_int_distribution<std::size_t>(1, 40)(random);
    given = std::min(input.size(), given + step);
    buffer = std::make_unique<std::string>(input.substr(0, given));
    result = parser.parse(*buffer);
    if (result.status != ParseStatus::NeedMore || given == input.size()) break;
  }
  return describe(result, parser.head());
}

struct ResponseCase {
  const char* name;
  std::string input;
  Method method;
  // "error 502", "need-more", or describe() without the " @length" suffix.
  std::string expected;
};

void PrintTo(const ResponseCase& row, std::ostream* out) { *out << row.name; }

std::vector<ResponseCase> response_cases() {
  const Method get = Method::Get;
  return {
      {"Ok", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", get, "200 reason=OK v1.1 body=cl:5 keep-alive fields=1"},
      {"EmptyReasonWithSpace", "HTTP/1.1 204 \r\nServer: x\r\n\r\n", get, "204 reason= v1.1 body=none keep-alive fields=1"},
      {"EmptyReasonWithoutSpace", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", get, "200 reason= v1.1 body=cl:0 keep-alive fields=1"},
      {"ReasonWithSpacesAndObsText", "HTTP/1.1 404 Not  Found \xe2\x9c\x97\r\nContent-Length: 0\r\n\r\n", get,
       "404 reason=Not  Found \xe2\x9c\x97 v1.1 body=cl:0 keep-alive fields=1"},
      {"Chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", get, "200 reason=OK v1.1 body=chunked keep-alive fields=1"},
      {"UntilClose", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody...", get, "200 reason=OK v1.1 body=until-close close fields=1"},
      {"CodingNotChunkedReadsUntilClose", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", get,
       "200 reason=OK v1.1 body=until-close close fields=1"},
      {"Http10ClosesByDefault", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", get, "200 reason=OK v1.0 body=cl:2 close fields=1"},
      {"Http10KeepAlive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", get,
       "200 reason=OK v1.0 body=cl:2 keep-alive fields=2"},
      {"ConnectionClose", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", get,
       "200 reason=OK v1.1 body=cl:2 close fields=2"},
      {"NotModifiedIgnoresLength", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", get,
       "304 reason=Not Modified v1.1 body=none keep-alive fields=1"},
      {"NoContent", "HTTP/1.1 204 No Content\r\n\r\n", get, "204 reason=No Content v1.1 body=none keep-alive fields=0"},
      {"Continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", get, "100 reason=Continue v1.1 body=none keep-alive interim fields=0"},
      {"EarlyHints", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", get,
       "103 reason=Early Hints v1.1 body=none keep-alive interim fields=1"},
      {"SwitchingProtocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", get,
       "101 reason=Switching Protocols v1.1 body=none close switching=websocket fields=2"},
      {"HeadResponseHasNoBody", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", Method::Head,
       "200 reason=OK v1.1 body=none keep-alive fields=1"},
      {"HeadResponseChunkedHasNoBody", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Method::Head,
       "200 reason=OK v1.1 body=none keep-alive fields=1"},
      {"ConnectEstablishesTunnel", "HTTP/1.1 200 Connection Established\r\n\r\n", Method::Connect,
       "200 reason=Connection Established v1.1 body=none close tunnel fields=0"},
      {"ConnectRefusedHasBody", "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\n", Method::Connect,
       "403 reason=Forbidden v1.1 body=cl:3 keep-alive fields=1"},
      {"ContentLengthRepeated", "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n", get, "200 reason=OK v1.1 body=cl:7 keep-alive fields=1"},
      {"Incomplete", "HTTP/1.1 200 OK\r\nContent-Len", get, "need-more"},

      {"BothFramings", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", get, "error 502"},
      {"DifferingLengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", get, "error 502"},
      {"BadLength", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", get, "error 502"},
      {"ChunkedNotLast", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", get, "error 502"},
      {"ChunkedTwice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", get, "error 502"},
      {"TransferEncodingInHttp10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", get, "error 502"},
      {"Http2", "HTTP/2 200 OK\r\n\r\n", get, "error 502"},
      {"Http20", "HTTP/2.0 200 OK\r\n\r\n", get, "error 502"},
      {"LowercaseVersion", "http/1.1 200 OK\r\n\r\n", get, "error 502"},
      {"NotHttp", "SSH-2.0-OpenSSH_9.2\r\n", get, "error 502"},
      {"TwoDigitStatus", "HTTP/1.1 20 OK\r\n\r\n", get, "error 502"},
      {"FourDigitStatus", "HTTP/1.1 2000 OK\r\n\r\n", get, "error 502"},
      {"StatusTooLow", "HTTP/1.1 099 Odd\r\n\r\n", get, "error 502"},
      {"StatusTooHigh", "HTTP/1.1 600 Odd\r\n\r\n", get, "error 502"},
      {"StatusNotDigits", "HTTP/1.1 2x0 OK\r\n\r\n", get, "error 502"},
      {"NoSpaceAfterVersion", "HTTP/1.1200 OK\r\n\r\n", get, "error 502"},
      {"ControlInReason", "HTTP/1.1 200 O\x01K\r\n\r\n", get, "error 502"},
      {"ObsFold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", get, "error 502"},
      {"SpaceBeforeColon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", get, "error 502"},
      {"NulInValue", std::string("HTTP/1.1 200 OK\r\nX-A: \0\r\n\r\n", 26), get, "error 502"},
      {"BareLf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", get, "error 502"},
      {"BareCr", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", get, "error 502"},
      {"TooManyFields", [] {
         std::string text = "HTTP/1.1 200 OK\r\n";
         for (int i = 0; i < 101; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
         return text + "\r\n";
       }(), get, "error 502"},
      {"HeadTooLarge", "HTTP/1.1 200 OK\r\nX-Big: " + std::string(40000, 'v') + "\r\n\r\n", get, "error 502"},
  };
}

class ResponseTable : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(ResponseTable, SameAnswerWholeByteByByteAndInSlices) {
  const ResponseCase& row = GetParam();
  const std::string whole = feed(row.input, row.method, Feeding::Whole);
  EXPECT_EQ(whole.substr(0, whole.rfind(" @")), row.expected);
  if (whole.find(" @") != std::string::npos) {
    EXPECT_EQ(whole.substr(whole.rfind(" @") + 2), std::to_string(row.input.find("\r\n\r\n") + 4));
  }
  EXPECT_EQ(feed(row.input, row.method, Feeding::ByteByByte), whole);
  EXPECT_EQ(feed(row.input, row.method, Feeding::RandomSlices), whole);
}

INSTANTIATE_TEST_SUITE_P(Responses, ResponseTable, ::testing::ValuesIn(response_cases()),
                         [](const ::testing::TestParamInfo<ResponseCase>& info) { return std::string(info.param.name); });

TEST(ResponseParser, InterimThenFinalResponseOnOneConnection) {
  const std::string stream = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  ResponseParser parser({}, Method::Post);
  const ParseResult interim = parser.parse(stream);
  ASSERT_EQ(interim.status, ParseStatus::Complete);
  EXPECT_TRUE(parser.head().interim);
  parser.reset(Method::Post);
  const ParseResult final_response = parser.parse(std::string_view(stream).substr(interim.head_length));
  ASSERT_EQ(final_response.status, ParseStatus::Complete);
  EXPECT_EQ(parser.head().status_code, 201);
  EXPECT_EQ(parser.head().reason, "Created");
  EXPECT_EQ(interim.head_length + final_response.head_length, stream.size());
}

TEST(ResponseParser, ErrorsAreBadGatewayWithADetailedReason) {
  ResponseParser parser;
  const ParseResult result = parser.parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(result.error.status, 502);
  EXPECT_EQ(result.error.reason, "both Content-Length and Transfer-Encoding in response");
}

TEST(ResponseParser, RejectsNonHttpAtFirstWrongByte) {
  ResponseParser parser;
  EXPECT_EQ(parser.parse("HTTQ").status, ParseStatus::Error);
  ResponseParser partial;
  EXPECT_EQ(partial.parse("HTT").status, ParseStatus::NeedMore);
}

}  // namespace
}  // namespace fulcrum::http
