// The request parser against a table of valid and invalid requests, each fed whole, one byte at a
// time and in random-sized slices (fixed seed); all three must give the same, expected, answer.
#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fulcrum::http {
namespace {

const char* form_name(TargetForm form) {
  switch (form) {
    case TargetForm::Origin: return "origin";
    case TargetForm::Absolute: return "absolute";
    case TargetForm::Authority: return "authority";
    case TargetForm::Asterisk: return "asterisk";
  }
  return "?";
}

// Everything a caller can read from a parse, in one comparable string.
std::string describe(const ParseResult& result, const RequestHead& head) {
  if (result.status == ParseStatus::NeedMore) return "need-more";
  if (result.status == ParseStatus::Error) return "error " + std::to_string(result.error.status);
  std::ostringstream out;
  out << head.method << ' ' << head.target << " form=" << form_name(head.target_form) << " path=" << head.path;
  if (head.has_query) out << " query=" << head.query;
  if (!head.authority.empty()) out << " authority=" << head.authority;
  out << " host=" << head.host << (head.version == HttpVersion::Http11 ? " v1.1" : " v1.0");
  switch (head.framing.kind) {
    case BodyKind::None: out << " body=none"; break;
    case BodyKind::ContentLength: out << " body=cl:" << head.framing.content_length; break;
    case BodyKind::Chunked: out << " body=chunked"; break;
    case BodyKind::UntilClose: out << " body=until-close"; break;
  }
  out << (head.keep_alive ? " keep-alive" : " close");
  if (head.expect_continue) out << " expect-100";
  if (head.upgrade_requested) out << " upgrade=" << head.upgrade;
  out << " |";
  for (const HeaderField field : head.headers) out << field.name << ':' << field.value << '|';
  // The length travels with the description so that the three feedings are compared on it too;
  // the table leaves it out (see without_length) and checks it against the empty line instead.
  out << " @" << result.head_length;
  return out.str();
}

std::string without_length(const std::string& description) {
  return description.substr(0, description.rfind(" @"));
}

// How a test delivers the bytes of one message to a parser.
enum class Feeding { Whole, ByteByByte, RandomSlices };

// Feeds `input` to a fresh parser. Incremental feedings hand the parser a new copy of the prefix
// at a new address on every call, as a session whose buffer grows and moves would.
std::string feed(const std::string& input, Feeding feeding, HeadLimits limits = {}) {
  RequestParser parser(limits);
  if (feeding == Feeding::Whole) {
    const ParseResult result = parser.parse(input);
    return describe(result, parser.head());
  }
  std::mt19937 random(20261123);
  std::unique_ptr<std::string> buffer;
  std::size_t given = 0;
  ParseResult result;
  while (true) {
    std::size_t step = 1;
    if (feeding == Feeding::RandomSlices) step = std::uniform_int_distribution<std::size_t>(1, 64)(random);
    given = std::min(input.size(), given + step);
    buffer = std::make_unique<std::string>(input.substr(0, given));
    result = parser.parse(*buffer);
    if (result.status != ParseStatus::NeedMore || given == input.size()) break;
  }
  return describe(result, parser.head());
}

struct RequestCase {
  const char* name;
  std::string input;
  // "error NNN", "need-more", "complete" (any valid head), or the describe() text of the head.
  std::string expected;
};

std::string many_fields(int count) {
  std::string text = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 1; i < count; ++i) text += "X-F" + std::to_string(i) + ": v\r\n";
  return text + "\r\n";
}

const std::string kOk = "GET / HTTP/1.1\r\nHost: a\r\n";

std::vector<RequestCase> request_cases() {
  return {
      // Valid requests and edge cases.
      {"SimpleGet", kOk + "\r\n", "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|"},
      {"Http10WithoutHost", "GET /x HTTP/1.0\r\n\r\n", "GET /x form=origin path=/x host= v1.0 body=none close |"},
      {"Http10KeepAlive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
       "GET / form=origin path=/ host= v1.0 body=none keep-alive |Connection:Keep-Alive|"},
      {"AbsoluteForm", "GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
       "GET http://example.com:8080/a/b?x=1 form=absolute path=/a/b query=x=1 authority=example.com:8080 "
       "host=example.com:8080 v1.1 body=none keep-alive |Host:example.com:8080|"},
      {"AbsoluteFormWithoutPath", "GET HTTPS://example.com?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
       "GET HTTPS://example.com?q form=absolute path=/ query=q authority=example.com host=example.com v1.1 "
       "body=none keep-alive |Host:example.com|"},
      {"OptionsAsterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
       "OPTIONS * form=asterisk path= host=a v1.1 body=none keep-alive |Host:a|"},
      {"ConnectAuthority", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
       "CONNECT example.com:443 form=authority path= authority=example.com:443 host=example.com:443 v1.1 "
       "body=none keep-alive |Host:example.com:443|"},
      {"ConnectIpv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
       "CONNECT [::1]:443 form=authority path= authority=[::1]:443 host=[::1]:443 v1.1 body=none keep-alive "
       "|Host:[::1]:443|"},
      {"EmptyHeaderValue", kOk + "X-Empty:\r\nX-Blank:   \r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|X-Empty:|X-Blank:|"},
      {"ValueTrimmedInnerSpacesKept", kOk + "X-A: \t a  b \t \r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|X-A:a  b|"},
      {"ObsTextInValue", kOk + "X-Name: caf\xc3\xa9\r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|X-Name:caf\xc3\xa9|"},
      {"QueryEmpty", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n",
       "GET /a? form=origin path=/a query= host=a v1.1 body=none keep-alive |Host:a|"},
      {"ContentLength", "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
       "POST /f form=origin path=/f host=a v1.1 body=cl:5 keep-alive |Host:a|Content-Length:5|"},
      {"ContentLengthRepeatedIdentical", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\ncontent-length: 5\r\n\r\n",
       "POST / form=origin path=/ host=a v1.1 body=cl:5 keep-alive |Host:a|Content-Length:5, 5|content-length:5|"},
      {"ContentLengthZeroLeadingZeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n",
       "POST / form=origin path=/ host=a v1.1 body=cl:7 keep-alive |Host:a|Content-Length:007|"},
      {"Chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
       "POST / form=origin path=/ host=a v1.1 body=chunked keep-alive |Host:a|Transfer-Encoding:chunked|"},
      {"GzipThenChunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n",
       "POST / form=origin path=/ host=a v1.1 body=chunked keep-alive |Host:a|Transfer-Encoding:gzip|"
       "Transfer-Encoding:CHUNKED|"},
      {"ConnectionClose", kOk + "Connection: keep-alive, close\r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none close |Host:a|Connection:keep-alive, close|"},
      {"ExpectContinue", "PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n",
       "PUT /u form=origin path=/u host=a v1.1 body=cl:3 keep-alive expect-100 |Host:a|Content-Length:3|"
       "Expect:100-Continue|"},
      {"ExpectIgnoredOnHttp10", "GET / HTTP/1.0\r\nExpect: something\r\n\r\n",
       "GET / form=origin path=/ host= v1.0 body=none close |Expect:something|"},
      {"UpgradeWebsocket", kOk + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive upgrade=websocket |Host:a|Connection:Upgrade|"
       "Upgrade:websocket|"},
      {"UpgradeWithoutConnectionOption", kOk + "Upgrade: websocket\r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|Upgrade:websocket|"},
      {"LeadingEmptyLines", "\r\n\r\n" + kOk + "\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|"},
      {"PipelinedSecondRequestUntouched", kOk + "\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n",
       "GET / form=origin path=/ host=a v1.1 body=none keep-alive |Host:a|"},
      {"ExtensionMethodAndHostCase", "PURGE /c HTTP/1.1\r\nhOsT: Example.COM\r\n\r\n",
       "PURGE /c form=origin path=/c host=Example.COM v1.1 body=none keep-alive |hOsT:Example.COM|"},
      {"EmptyHostAllowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
       "GET / form=origin path=/ host= v1.1 body=none keep-alive |Host:|"},
      {"TargetWithPercentAndSubDelims", "GET /a%20b;c=d!$&'()*+,=:@~ HTTP/1.1\r\nHost: a\r\n\r\n",
       "GET /a%20b;c=d!$&'()*+,=:@~ form=origin path=/a%20b;c=d!$&'()*+,=:@~ host=a v1.1 body=none keep-alive "
       "|Host:a|"},
      {"ExactlyMaxFields", many_fields(100), "complete"},
      {"Incomplete", kOk, "need-more"},
      {"IncompleteRequestLine", "GET / HTT", "need-more"},

      // Framing: Content-Length and Transfer-Encoding.
      {"ContentLengthAndTransferEncoding", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "error 400"},
      {"ContentLengthDiffering", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", "error 400"},
      {"ContentLengthFieldsDiffering", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "error 400"},
      {"ContentLengthNotNumber", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", "error 400"},
      {"ContentLengthSigned", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", "error 400"},
      {"ContentLengthNegative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "error 400"},
      {"ContentLengthHex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", "error 400"},
      {"ContentLengthInnerSpace", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", "error 400"},
      {"ContentLengthEmpty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", "error 400"},
      {"ContentLengthEmptyMember", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", "error 400"},
      {"ContentLengthOverflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", "error 400"},
      {"TransferEncodingNotChunkedLast", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "error 400"},
      {"TransferEncodingChunkedTwice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "error 400"},
      {"TransferEncodingChunkedTwiceInFields", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "error 400"},
      {"TransferEncodingChunkedThenGzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "error 400"},
      {"TransferEncodingLookalike", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", "error 400"},
      {"TransferEncodingWithParameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", "error 400"},
      {"TransferEncodingEmpty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", "error 400"},
      {"TransferEncodingUnknownCoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br, chunked\r\n\r\n", "error 501"},
      {"TransferEncodingInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "error 400"},

      // Field syntax.
      {"ObsFold", kOk + "X-A: a\r\n b\r\n\r\n", "error 400"},
      {"ObsFoldTab", kOk + "X-A: a\r\n\tb\r\n\r\n", "error 400"},
      {"WhitespaceBeforeColon", kOk + "Transfer-Encoding : chunked\r\n\r\n", "error 400"},
      {"InvalidNameCharacter", kOk + "X@Y: a\r\n\r\n", "error 400"},
      {"EmptyName", kOk + ": a\r\n\r\n", "error 400"},
      {"NoColon", kOk + "X-A\r\n\r\n", "error 400"},
      {"NulInValue", kOk + std::string("X-A: a\0b\r\n\r\n", 11), "error 400"},
      {"ControlInValue", kOk + "X-A: a\x01" "b\r\n\r\n", "error 400"},
      {"DelInValue", kOk + "X-A: a\x7f\r\n\r\n", "error 400"},
      {"BareCrInValue", kOk + "X-A: a\rb\r\n\r\n", "error 400"},
      {"BareLfInFields", kOk + "X-A: a\n\r\n", "error 400"},
      {"BareLfOnlyEndings", "GET / HTTP/1.1\nHost: a\n\n", "error 400"},
      {"MissingHost", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", "error 400"},
      {"RepeatedHost", kOk + "Host: b\r\n\r\n", "error 400"},
      {"HostWithSpace", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "error 400"},
      {"HostWithUserinfo", "GET / HTTP/1.1\r\nHost: user@evil\r\n\r\n", "error 400"},
      {"HostWithPath", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "error 400"},
      {"ConnectionOptionNotToken", kOk + "Connection: close;x\r\n\r\n", "error 400"},
      {"UnsupportedExpectation", kOk + "Expect: 200-ok\r\n\r\n", "error 417"},

      // Request line.
      {"Http20", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "error 400"},
      {"Http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", "error 400"},
      {"VersionLowercase", "GET / http/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"VersionTrailingSpace", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "error 400"},
      {"Http09NoVersion", "GET /\r\n\r\n", "error 400"},
      {"EmptyMethod", " / HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"InvalidMethodCharacter", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"MethodAlone", "GET\r\n\r\n", "error 400"},
      {"TargetWithSpace", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"DoubleSpace", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"TabSeparator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"TargetWithControl", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"TargetWithDel", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"TargetNonAscii", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"TargetWithFragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"AsteriskWithGet", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"ConnectOriginForm", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"ConnectWithoutPort", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"AbsoluteFormUserinfo", "GET http://user@evil.com/ HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"AbsoluteFormOtherScheme", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"AbsoluteFormEmptyAuthority", "GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"RelativeTarget", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},
      {"TlsClientHello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), "error 400"},
      {"CrThenGarbageBeforeRequest", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", "error 400"},

      // Limits.
      {"RequestLineTooLong", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", "error 414"},
      {"RequestLineTooLongUnterminated", "GET /" + std::string(9000, 'a'), "error 414"},
      {"TooManyFields", many_fields(101), "error 431"},
      {"HeadTooLarge", kOk + "X-Big: " + std::string(33000, 'v') + "\r\n\r\n", "error 431"},
      {"HeadTooLargeUnterminated", kOk + "X-Big: " + std::string(33000, 'v'), "error 431"},
  };
}

// gtest prints a row by its name rather than as raw bytes.
void PrintTo(const RequestCase& row, std::ostream* out) { *out << row.name; }

// Where a complete head must end: after the first empty line that follows the request line.
std::size_t expected_head_length(const std::string& input) {
  const std::size_t request_line = input.find_first_not_of("\r\n");
  return input.find("\r\n\r\n", request_line) + 4;
}

class RequestTable : public ::testing::TestWithParam<RequestCase> {};

TEST_P(RequestTable, SameAnswerWholeByteByByteAndInSlices) {
  const RequestCase& row = GetParam();
  const std::string whole = feed(row.input, Feeding::Whole);
  if (row.expected == "complete") {
    EXPECT_EQ(whole.rfind("GET ", 0), 0u) << whole.substr(0, 200);
  } else {
    EXPECT_EQ(without_length(whole), row.expected);
  }
  if (whole.rfind("error", 0) != 0 && whole != "need-more") {
    RequestParser parser;
    EXPECT_EQ(parser.parse(row.input).head_length, expected_head_length(row.input));
  }
  EXPECT_EQ(feed(row.input, Feeding::ByteByByte), whole);
  EXPECT_EQ(feed(row.input, Feeding::RandomSlices), whole);
}

INSTANTIATE_TEST_SUITE_P(Requests, RequestTable, ::testing::ValuesIn(request_cases()),
                         [](const ::testing::TestParamInfo<RequestCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace fulcrum::http
