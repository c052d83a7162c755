// libFuzzer target for the response head parser (and the chunked decoder behind it).
//
// The first byte picks the request method the response answers (GET, HEAD or CONNECT), the rest
// is the response. Parsed whole, in two pieces split at a data-derived point (the second call on
// a moved copy), and byte by byte for small inputs: all must agree. Errors must be 502; framing
// must follow RFC 9112 §6.3. A chunked body after the head is decoded whole and split, and the
// traces must agree.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http/response_parser.h"

namespace {

using namespace fulcrum;

http::HeadLimits fuzz_limits() {
  http::HeadLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_headers = 16;
  return limits;
}

std::string describe(const http::ParseResult& result, const http::ResponseHead& head) {
  std::string out = fuzz::describe_result(result);
  if (result.status != http::ParseStatus::Complete) return out;
  out += " " + std::to_string(head.status_code) + " reason=" + std::string(head.reason) +
         (head.interim ? " interim" : "") + (head.switching_protocols ? " switching" : "") +
         (head.tunnel ? " tunnel" : "") + " ";
  return out + fuzz::describe_common(head);
}

void check_invariants(std::string_view data, http::Method method, const http::ParseResult& result,
                      const http::ResponseHead& head) {
  if (result.status == http::ParseStatus::Error) {
    fuzz::require(result.error.status == 502, "response errors are 502");
    return;
  }
  if (result.status != http::ParseStatus::Complete) return;
  fuzz::require(result.head_length >= 4 && result.head_length <= data.size(), "head length within input");
  fuzz::require(data.substr(result.head_length - 4, 4) == "\r\n\r\n", "head ends with CRLF CRLF");
  fuzz::require(head.status_code >= 100 && head.status_code <= 599, "status code in range");
  const int code = head.status_code;
  if (method == http::Method::Head || code < 200 || code == 204 || code == 304) {
    fuzz::require(head.framing.kind == http::BodyKind::None, "bodiless responses have no body");
  }
  if (head.framing.kind == http::BodyKind::UntilClose) fuzz::require(!head.keep_alive, "until-close closes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const http::Method methods[] = {http::Method::Get, http::Method::Head, http::Method::Connect};
  const http::Method method = methods[bytes[0] % 3];
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);

  http::ResponseParser whole(fuzz_limits(), method);
  const http::ParseResult whole_result = whole.parse(data);
  const std::string expected = describe(whole_result, whole.head());
  check_invariants(data, method, whole_result, whole.head());

  const std::size_t split = fuzz::split_point(data);
  http::ResponseParser pieces(fuzz_limits(), method);
  http::ParseResult result = pieces.parse(data.substr(0, split));
  const auto moved = std::make_unique<std::string>(data);
  if (result.status == http::ParseStatus::NeedMore) result = pieces.parse(*moved);
  fuzz::require_same(expected, describe(result, pieces.head()), "whole and split response parses");

  if (data.size() <= 4096) {
    http::ResponseParser bytewise(fuzz_limits(), method);
    for (std::size_t n = 0; n <= data.size(); ++n) {
      result = bytewise.parse(data.substr(0, n));
      if (result.status != http::ParseStatus::NeedMore) break;
    }
    fuzz::require_same(expected, describe(result, bytewise.head()), "whole and byte-by-byte response parses");
  }

  if (whole_result.status == http::ParseStatus::Complete && whole.head().framing.kind == http::BodyKind::Chunked) {
    const std::string_view body = data.substr(whole_result.head_length);
    fuzz::require_same(fuzz::trace_chunked(body, body.size()), fuzz::trace_chunked(body, fuzz::split_point(body)),
                       "whole and split chunked bodies");
  }
  return 0;
}
