// The incremental, zero-copy parser of HTTP/1.0 and HTTP/1.1 response heads from backends.
//
// Same contract and strictness as RequestParser (see request_parser.h), except that every
// rejection carries status 502: a malformed response is the backend's fault, and the client is
// told so (the reason string keeps the detail for the log). The framing of the body depends on
// the request, so the parser is told the request's method.
//
// Owned by one session on one worker thread; no allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/field_line.h"
#include "http/message.h"
#include "http/parse_result.h"

namespace fulcrum::http {

/// See the file comment.
class ResponseParser {
 public:
  /// A parser enforcing `limits` (max_request_line_bytes does not apply) for the response to a
  /// request with `request_method`.
  explicit ResponseParser(HeadLimits limits = {}, Method request_method = Method::Get);

  /// Parses `buffered`: all bytes received for this response so far, from its first byte. Each
  /// call must present the bytes of the previous call unchanged, followed by zero or more new
  /// ones. Bytes after the head are never examined. Once Complete or Error, returns the same
  /// result until reset().
  ParseResult parse(std::string_view buffered);

  /// The parsed response. Valid after parse() returned Complete, while the head bytes stay where
  /// they were in that call and until reset().
  const ResponseHead& head() const { return head_; }

  /// Prepares for the next response head: after an interim (1xx) response, or for the response
  /// to the next request, whose method is `request_method`.
  void reset(Method request_method);

  /// Bytes examined so far for this head (a linear-cost witness for tests).
  std::size_t bytes_examined() const { return lines_.bytes_examined(); }

 private:
  enum class Phase : std::uint8_t { StatusLine, Fields, Complete, Failed };

  ParseResult fail(HttpError error);
  ParseResult parse_start(std::string_view buffered);
  HttpError parse_status_line(std::string_view line);
  ParseResult complete(std::string_view buffered);

  HeadLimits limits_;
  Method request_method_;
  FieldTable fields_;
  LineScanner lines_;
  Phase phase_ = Phase::StatusLine;
  HttpVersion version_ = HttpVersion::Http11;
  int status_code_ = 0;
  std::size_t reason_offset_ = 0;
  std::size_t reason_length_ = 0;
  ResponseHead head_;
  ParseResult result_;
};

}  // namespace fulcrum::http
