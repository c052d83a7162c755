// Validating a request-target and splitting it into form, path, query and authority
// (RFC 9112 §3.2). Pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/message.h"
#include "http/parse_result.h"

namespace fulcrum::http {

/// The parts of a request-target as offsets from its first byte, so they survive the buffer
/// moving before the head completes.
struct TargetParts {
  TargetForm form = TargetForm::Origin;
  std::uint32_t path_offset = 0;
  std::uint32_t path_length = 0;
  /// An absolute-form target without a path: its path is "/".
  bool root_path = false;
  bool has_query = false;
  std::uint32_t query_offset = 0;
  std::uint32_t query_length = 0;
  std::uint32_t authority_offset = 0;
  std::uint32_t authority_length = 0;

  /// Fills the target fields of `head` from `target` (the same bytes that were parsed).
  void apply(std::string_view target, RequestHead& head) const;
};

/// Validates `target` for a request with `method` and fills `parts`. Rejects (400) an empty target,
/// a byte outside VCHAR or a '#'; a target that is not origin-form (`/...`), asterisk-form (`*`,
/// OPTIONS only), authority-form (`host:port`, CONNECT only, and CONNECT takes nothing else) or
/// absolute-form with scheme http or https and a non-empty authority without userinfo.
HttpError parse_request_target(std::string_view target, Method method, TargetParts& parts);

}  // namespace fulcrum::http
