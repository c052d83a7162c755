// Helpers shared by the HTTP fuzz targets: a canonical description of what a parse produced (so
// two feedings can be compared) and a chunked-body trace. The checks themselves: fuzz_check.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/chunked_decoder.h"
#include "http/message.h"
#include "http/parse_result.h"
#include "http/syntax.h"

namespace fulcrum::fuzz {

/// Status, length and error of a parse.
inline std::string describe_result(const http::ParseResult& result) {
  return std::to_string(static_cast<int>(result.status)) + " len=" + std::to_string(result.head_length) +
         " err=" + std::to_string(result.error.status) + ":" + std::string(result.error.reason);
}

/// The fields every head has, and checks that each field is syntactically clean.
inline std::string describe_common(const http::MessageHead& head) {
  std::string out = head.version == http::HttpVersion::Http11 ? "1.1" : "1.0";
  out += " body=" + std::to_string(static_cast<int>(head.framing.kind)) + ":" +
         std::to_string(head.framing.content_length);
  out += head.keep_alive ? " ka" : " close";
  out += " upgrade=" + std::string(head.upgrade) + " |";
  for (const http::HeaderField field : head.headers) {
    require(http::syntax::is_token(field.name), "field name is a token");
    require(http::syntax::find_first_not_in(field.value, http::syntax::kFieldValue) == field.value.size(),
            "field value has no control bytes");
    require(field.value.empty() || (!http::syntax::is_whitespace(field.value.front()) &&
                                    !http::syntax::is_whitespace(field.value.back())),
            "field value is trimmed");
    out += std::string(field.name) + ":" + std::string(field.value) + "|";
  }
  return out;
}

/// Runs a chunked decoder over `body`, delivered in two pieces split at `split` (unconsumed bytes
/// are presented again, as a session does). Returns a trace of parts (data merged) and the end.
inline std::string trace_chunked(std::string_view body, std::size_t split) {
  http::ChunkedLimits limits;
  limits.max_size_line_bytes = 64;
  limits.max_trailer_bytes = 256;
  limits.max_trailers = 4;
  http::ChunkedDecoder decoder(limits);
  std::string trace;
  std::string pending;
  std::size_t given = 0;
  char last = 0;
  for (int round = 0; round < 2; ++round) {
    const std::size_t until = round == 0 ? split : body.size();
    pending.append(body.substr(given, until - given));
    given = until;
    std::string_view input = pending;
    while (true) {
      const http::ChunkedStep step = decoder.step(input);
      if (step.status == http::ChunkedStatus::Error) {
        return trace + " error " + std::to_string(step.error.status) + std::string(step.error.reason);
      }
      if (step.status == http::ChunkedStatus::NeedMore) break;
      require(step.length > 0 && step.length <= input.size(), "a part has bytes from the input");
      const char kind = static_cast<char>('0' + static_cast<int>(step.part));
      if (kind != last || step.part != http::ChunkPart::Data) trace += kind;
      last = kind;
      trace += std::string(input.substr(0, step.length));
      input.remove_prefix(step.length);
      if (step.status == http::ChunkedStatus::Done) {
        for (const http::HeaderField field : decoder.trailers()) {
          trace += " T" + std::string(field.name) + "=" + std::string(field.value);
        }
        return trace + " done rest=" + std::to_string(input.size() + body.size() - given);
      }
    }
    pending = std::string(input);
  }
  return trace + " need-more";
}

}  // namespace fulcrum::fuzz
