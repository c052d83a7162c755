// The incremental, zero-copy parser of HTTP/1.0 and HTTP/1.1 request heads: the security
// perimeter of an HTTP listener. docs/http-parsing.md lists what it accepts and rejects.
//
// Usage, on a session's read buffer:
//
//   RequestParser parser(limits);              // once per session: allocates the field table
//   ParseResult result = parser.parse(buffer);   // buffer: every byte of this request so far
//   NeedMore → read more, call again with the longer buffer (it may have moved)
//   Error    → answer result.error.status, close
//   Complete → parser.head() describes the request; the body starts at result.head_length
//   parser.reset();                            // before the next request on the connection
//
// Cost: each byte is examined once while the head arrives (resuming where the previous call
// stopped, at any byte boundary), then the request line and each field line are validated once.
// No allocation after construction. Owned by one session on one worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/field_line.h"
#include "http/message.h"
#include "http/parse_result.h"
#include "http/request_target.h"

namespace fulcrum::http {

/// See the file comment.
class RequestParser {
 public:
  /// A parser enforcing `limits` (max_head_bytes is clamped to 2^31).
  explicit RequestParser(HeadLimits limits = {});

  /// Parses `buffered`: all bytes received for this request so far, from its first byte. Each call
  /// must present the bytes of the previous call unchanged, followed by zero or more new ones.
  /// Bytes after the head are never examined. Once Complete or Error, returns the same result
  /// until reset().
  ParseResult parse(std::string_view buffered);

  /// The parsed request. Valid after parse() returned Complete, while the head bytes stay where
  /// they were in that call and until reset().
  const RequestHead& head() const { return head_; }

  /// Prepares for the next request on the same connection (pass the bytes after the previous
  /// message as the new buffer).
  void reset();

  /// Bytes examined so far for this head: lets tests prove that feeding in small pieces is linear.
  std::size_t bytes_examined() const { return lines_.bytes_examined() + method_bytes_examined_; }

 private:
  enum class Phase : std::uint8_t { RequestLine, Fields, Complete, Failed };

  ParseResult fail(HttpError error);
  ParseResult parse_start(std::string_view buffered);
  HttpError check_method_prefix(std::string_view buffered, std::size_t bound);
  HttpError parse_request_line(std::string_view buffered, std::size_t begin, std::size_t end);
  ParseResult complete(std::string_view buffered);

  HeadLimits limits_;
  FieldTable fields_;
  LineScanner lines_;
  Phase phase_ = Phase::RequestLine;
  // How far the method of the current first line has been validated (absolute offset), and
  // whether that early check is over (the method ended, or the line is empty).
  std::size_t method_checked_ = 0;
  bool method_check_over_ = false;
  std::size_t method_bytes_examined_ = 0;
  // The request line as offsets, valid across buffer moves.
  std::size_t method_offset_ = 0;
  std::size_t method_length_ = 0;
  std::size_t target_offset_ = 0;
  std::size_t target_length_ = 0;
  HttpVersion version_ = HttpVersion::Http11;
  Method method_kind_ = Method::Other;
  TargetParts target_parts_;
  RequestHead head_;
  ParseResult result_;
};

}  // namespace fulcrum::http
