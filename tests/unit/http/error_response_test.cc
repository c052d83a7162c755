// Fulcrum's own answers: exact bytes of a few, and every one read back by the real response parser
// so that its framing (Content-Length) is proven to match its body.
#include "http/error_response.h"

#include <gtest/gtest.h>

#include <string>

#include "http/response_parser.h"

namespace fulcrum::http {
namespace {

constexpr int kStatuses[] = {400, 404, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504};

TEST(ErrorResponse, ExactBytesOf400) {
  EXPECT_EQ(error_response(400),
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 16\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "\r\n"
            "400 Bad Request\n");
}

TEST(ErrorResponse, ExactBytesOf431AndKeepAlive503) {
  EXPECT_EQ(error_response(431),
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 36\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "\r\n"
            "431 Request Header Fields Too Large\n");
  EXPECT_EQ(error_response(503, true),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 24\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            "503 Service Unavailable\n");
}

TEST(ErrorResponse, EveryAnswerParsesAndItsLengthMatchesItsBody) {
  for (int status : kStatuses) {
    for (bool keep_alive : {false, true}) {
      SCOPED_TRACE(testing::Message() << status << (keep_alive ? " keep-alive" : " close"));
      const std::string_view bytes = error_response(status, keep_alive);
      ResponseParser parser;
      const ParseResult result = parser.parse(bytes);
      ASSERT_EQ(result.status, ParseStatus::Complete) << result.error.reason;
      const ResponseHead& head = parser.head();
      EXPECT_EQ(head.status_code, status);
      EXPECT_EQ(head.reason, reason_phrase(status));
      ASSERT_EQ(head.framing.kind, BodyKind::ContentLength);
      const std::string_view body = bytes.substr(result.head_length);
      EXPECT_EQ(head.framing.content_length, body.size());
      EXPECT_EQ(body, std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n");
      EXPECT_EQ(head.headers.find("cache-control"), "no-store");
      EXPECT_EQ(head.headers.find("content-type"), "text/plain; charset=utf-8");
      const bool keeps = keep_alive && (status == 404 || status == 503);
      EXPECT_EQ(head.headers.find("connection"), keeps ? "keep-alive" : "close");
      EXPECT_EQ(head.keep_alive, keeps);
    }
  }
}

TEST(ErrorResponse, OnlyNotFoundAndUnavailableMayKeepAlive) {
  for (int status : kStatuses) {
    EXPECT_EQ(error_may_keep_alive(status), status == 404 || status == 503) << status;
  }
}

TEST(ErrorResponse, KeepAliveIsRefusedWhereTheConnectionMustClose) {
  EXPECT_EQ(error_response(400, true), error_response(400));
  EXPECT_EQ(error_response(502, true), error_response(502));
  EXPECT_NE(error_response(404, true), error_response(404));
}

TEST(ErrorResponse, UnknownStatusGetsTheInternalError) {
  EXPECT_EQ(error_response(418), error_response(500));
  EXPECT_EQ(error_response(0), error_response(500));
  EXPECT_TRUE(error_response(500).starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
}

TEST(ErrorResponse, ViewsAreStable) {
  const std::string_view first = error_response(504);
  const std::string_view second = error_response(504);
  EXPECT_EQ(first.data(), second.data());
}

TEST(ErrorResponse, CustomBodyForAListener) {
  const std::string body = "Unavailable, holmes.";
  const std::string response = make_error_response(503, body, true);
  EXPECT_EQ(response,
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 20\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "\r\n"
            "Unavailable, holmes.");

  const std::string utf8 = make_error_response(503, "Désolé\n", false);
  ResponseParser parser;
  const ParseResult result = parser.parse(utf8);
  ASSERT_EQ(result.status, ParseStatus::Complete);
  EXPECT_EQ(parser.head().framing.content_length, 9u);  // bytes, not characters (é is two)
  EXPECT_EQ(utf8.substr(result.head_length), "Désolé\n");
  EXPECT_TRUE(parser.head().keep_alive);
}

TEST(ErrorResponse, EmptyCustomBody) {
  const std::string response = make_error_response(503, "", true);
  EXPECT_TRUE(response.ends_with("Content-Length: 0\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"));
}

TEST(ErrorResponse, WithoutBodyIsTheHeadForAHeadRequest) {
  const std::string_view response = error_response(404);
  const std::string_view head = without_body(response);
  EXPECT_TRUE(head.ends_with("Connection: close\r\n\r\n"));
  EXPECT_EQ(response.substr(head.size()), "404 Not Found\n");
  ResponseParser parser({}, Method::Head);
  const ParseResult result = parser.parse(head);
  ASSERT_EQ(result.status, ParseStatus::Complete);
  EXPECT_EQ(result.head_length, head.size());
}

TEST(ErrorResponse, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(504), "Gateway Timeout");
  EXPECT_EQ(reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(reason_phrase(299), "");
}

}  // namespace
}  // namespace fulcrum::http
