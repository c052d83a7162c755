// What the HTTP/1.1 head parsers return, and the limits they enforce.
//
// Errors are values: a rejected message yields the status code the proxy should answer with
// (4xx for a client's request, 502 for a backend's response) and a short static reason for logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fulcrum::http {

/// A rejection: the status code to answer with and a short reason for the log. `reason` points to
/// a string literal and never dangles. A default-constructed HttpError means "no error".
struct HttpError {
  std::uint16_t status = 0;
  std::string_view reason;

  /// True when this is an error (status set).
  explicit operator bool() const { return status != 0; }
  friend bool operator==(const HttpError&, const HttpError&) = default;
};

/// Where a head parser stands after a call to parse().
enum class ParseStatus : std::uint8_t {
  /// The head is not complete yet: call again with the same bytes plus more.
  NeedMore,
  /// The head is complete and valid; `head_length` bytes form it.
  Complete,
  /// The message is rejected; `error` says how to answer. The connection cannot be reused.
  Error,
};

/// The outcome of one call to a head parser.
struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  /// When Complete: the length of the head, from the first byte given to the parser up to and
  /// including the CRLF of the empty line. The body (or the next pipelined message) starts there.
  std::size_t head_length = 0;
  /// When Error: the status code and reason.
  HttpError error;

  friend bool operator==(const ParseResult&, const ParseResult&) = default;
};

/// Bounds on a head. Defaults follow common edge practice (HAProxy / nginx); a listener passes its
/// configured values. Every bound is enforced before the bytes beyond it are looked at.
struct HeadLimits {
  /// The whole head, start line and fields and final CRLF. Beyond: 431 for a request (414 while
  /// still inside the request line), 502 for a response. Clamped to 2^31 by the parsers.
  std::size_t max_head_bytes = 32 * 1024;
  /// The request line without its CRLF; it bounds the request-target. Beyond: 414.
  std::size_t max_request_line_bytes = 8 * 1024;
  /// Field lines in the head. One more: 431 for a request, 502 for a response. The parser
  /// allocates its field table once, with this capacity, when it is constructed.
  std::size_t max_headers = 100;
};

}  // namespace fulcrum::http
