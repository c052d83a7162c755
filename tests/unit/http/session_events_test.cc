// read_refused_request_line(): what the access log and the `request` event say about a request
// refused before its head was complete (HAProxy logs these as <BADREQ>).
#include "http/session_events.h"

#include <gtest/gtest.h>

namespace fulcrum::http {
namespace {

struct Case {
  const char* name;
  std::string received;
  std::string method;  // "" when unknown
  std::string target;
};

class RefusedRequestLineTest : public ::testing::TestWithParam<Case> {};

TEST_P(RefusedRequestLineTest, ReadsWhatArrived) {
  const Case& c = GetParam();
  const RefusedRequestLine line = read_refused_request_line(c.received);
  EXPECT_EQ(line.method, c.method);
  EXPECT_EQ(line.target, c.target);
}

INSTANTIATE_TEST_SUITE_P(
    Http, RefusedRequestLineTest,
    ::testing::Values(
        Case{"WholeBadHead", "GET /a?b=1 HTTP/1.1\r\nHost : x\r\n\r\n", "GET", "/a?b=1"},
        Case{"SlowlorisInTheFields", "GET /slow HTTP/1.1\r\nHo", "GET", "/slow"},
        Case{"SlowlorisInTheTarget", "POST /up", "POST", "/up"},
        Case{"OnlyTheMethodSoFar", "GE", "", ""},
        Case{"MethodWithoutItsSpace", "GET", "", ""},
        Case{"MethodThenSpace", "GET ", "GET", ""},
        Case{"LeadingEmptyLinesSkipped", "\r\n\r\nDELETE /x HTTP/1.1\r\n", "DELETE", "/x"},
        Case{"TwoSpaces", "GET  / HTTP/1.1\r\n", "GET", ""},
        Case{"NotATokenMethod", "G(T / HTTP/1.1\r\n", "", ""},
        Case{"TlsHandshake", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), "", ""},
        Case{"ControlBytesEndTheTarget", std::string("GET /a\x01" "b HTTP/1.1\r\n"), "GET", "/a"},
        Case{"NonAsciiEndsTheTarget", "GET /caf\xc3\xa9 HTTP/1.1\r\n", "GET", "/caf"},
        Case{"BareLf", "GET /lf\nHost: x\n\n", "GET", "/lf"},
        Case{"Empty", "", "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RefusedRequestLine, LongTargetsAreCut) {
  const std::string target = "/" + std::string(5000, 'a');
  const std::string received = "GET " + target + " HTTP/1.1\r\n";  // the views point into it
  const RefusedRequestLine line = read_refused_request_line(received);
  EXPECT_EQ(line.method, "GET");
  EXPECT_EQ(line.target, target.substr(0, kMaxRefusedTarget));
}

TEST(RefusedRequestLine, OverlongMethodIsUnknown) {
  const std::string overlong = std::string(kMaxRefusedMethod + 1, 'M') + " / HTTP/1.1\r\n";
  EXPECT_EQ(read_refused_request_line(overlong).method, "");
  const std::string longest(kMaxRefusedMethod, 'M');
  const std::string received = longest + " / HTTP/1.1\r\n";
  EXPECT_EQ(read_refused_request_line(received).method, longest);
}

}  // namespace
}  // namespace fulcrum::http
