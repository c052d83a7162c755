// The text form of the access log: `json` or a template with `$variables`
// (`$client - $method $path $status $duration_ms`). Parsing is pure so that the configuration
// validator and the access log writer share one definition of what a valid format is.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::events {

/// One field of an access-log record, as a format names it (`$status`).
enum class AccessLogField {
  Time,        ///< `2026-06-16T07:06:59.969Z`, when the request (connection) ended
  Client,      ///< client IP and port
  Listener,    ///< listener name, or its address when unnamed
  Method,      ///< request method (`-` for tcp)
  Path,        ///< request target as received (`-` for tcp)
  Status,      ///< response status sent to the client (0 when none was sent, tcp too)
  Backend,     ///< backend address, `-` when none was reached
  BytesIn,     ///< bytes received from the client
  BytesOut,    ///< bytes sent to the client
  DurationMs,  ///< from the request head (connection) to its end, in milliseconds
  RequestId,   ///< the request's X-Request-Id (`-` for tcp)
};

/// Every variable a format may use, in the order the documentation lists them.
inline constexpr std::array<std::string_view, 11> kAccessLogVariables{
    "time", "client", "listener", "method", "path", "status",
    "backend", "bytes_in", "bytes_out", "duration_ms", "request_id"};

/// A parsed format: literal text and fields in turn.
struct AccessLogFormat {
  /// True for `json`: one JSON object per line with every field.
  bool json = true;
  struct Piece {
    std::string literal;                 ///< written first
    std::optional<AccessLogField> field; ///< then this field, if any
  };
  std::vector<Piece> pieces;

  /// Parses `json` or a template. A `$` followed by a letter starts a variable name (letters,
  /// digits, `_`); `$$` is a literal `$`. A template needs at least one variable. Returns nullopt
  /// with `why` set otherwise (`unknown variable '$stauts' (did you mean '$status'?)`).
  static std::optional<AccessLogFormat> parse(std::string_view text, std::string* why = nullptr);
};

}  // namespace fulcrum::events
