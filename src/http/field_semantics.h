// Reading the fields that decide framing and connection management (Host, Content-Length,
// Transfer-Encoding, Connection, Expect, Upgrade) out of a complete head, in one pass.
//
// Only syntax that is wrong whatever the message is rejected here; the rules that depend on
// whether the head is a request or a response (and on its version) live in the two parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/header_list.h"
#include "http/parse_result.h"

namespace fulcrum::http {

/// What the framing and connection-management fields of one head say.
struct FieldSummary {
  /// Host fields seen, and the value of the first.
  std::size_t host_count = 0;
  std::string_view host;

  /// Content-Length present, and its value (all members of every Content-Length field agreed).
  bool has_content_length = false;
  std::uint64_t content_length = 0;

  /// Transfer-Encoding present; whether its last coding is chunked; whether some coding is
  /// neither chunked nor one of gzip, x-gzip, deflate, compress, x-compress.
  bool has_transfer_encoding = false;
  bool chunked = false;
  bool unknown_coding = false;

  /// Options of the Connection fields that change behaviour.
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;

  /// Expect members: 100-continue, and anything else.
  bool expect_continue = false;
  bool expect_other = false;

  /// The value of the first Upgrade field; empty when absent.
  std::string_view upgrade;
  bool has_upgrade = false;
};

/// Fills `summary` from `headers`. Returns 400 for: a Content-Length member that is not 1*DIGIT
/// or exceeds 2^63-1, Content-Length members that differ (identical repeats like `5, 5` or two
/// `Content-Length: 5` fields count as one), an empty Content-Length member, a Transfer-Encoding
/// element that is not a bare token (parameters included), chunked anywhere but last or more
/// than once, an empty Transfer-Encoding, a Connection option that is not a token, and a Host
/// value with bytes outside uri-host[:port] (unreserved, sub-delims, '%', ':', '[', ']').
HttpError summarize_fields(const HeaderList& headers, FieldSummary& summary);

/// Parses a Content-Length value (a comma list of identical 1*DIGIT members) into `length`.
/// Returns false when malformed, when members differ, or above 2^63-1.
bool parse_content_length(std::string_view value, std::uint64_t& length);

}  // namespace fulcrum::http
