// libFuzzer target for the request head parser (and the chunked decoder behind it).
//
// Each input is parsed whole, in two pieces split at a data-derived point (the second call sees a
// fresh copy of the buffer at a new address, as after a reallocation), and for small inputs one
// byte at a time. All feedings must agree on the result and on every parsed field; a complete
// head must end with CRLF CRLF and respect the limits; an error must be one of the documented
// statuses. When the head announces a chunked body, the rest of the input is decoded whole and
// split, and the traces must agree.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http/request_parser.h"

namespace {

using namespace fulcrum;

http::HeadLimits fuzz_limits() {
  http::HeadLimits limits;
  // Small limits so that the fuzzer reaches the 414 / 431 paths with short inputs.
  limits.max_head_bytes = 2048;
  limits.max_request_line_bytes = 512;
  limits.max_headers = 16;
  return limits;
}

std::string describe(const http::ParseResult& result, const http::RequestHead& head) {
  std::string out = fuzz::describe_result(result);
  if (result.status != http::ParseStatus::Complete) return out;
  out += " " + std::string(head.method) + " " + std::string(head.target) + " form=" +
         std::to_string(static_cast<int>(head.target_form)) + " path=" + std::string(head.path) +
         " q=" + (head.has_query ? std::string(head.query) : "-") + " auth=" + std::string(head.authority) +
         " host=" + std::string(head.host) + (head.expect_continue ? " expect" : "") +
         (head.upgrade_requested ? " upgrading" : "") + " ";
  return out + fuzz::describe_common(head);
}

void check_invariants(std::string_view data, const http::ParseResult& result, const http::RequestHead& head) {
  const http::HeadLimits limits = fuzz_limits();
  if (result.status == http::ParseStatus::Complete) {
    fuzz::require(result.head_length >= 4 && result.head_length <= data.size(), "head length within input");
    fuzz::require(result.head_length <= limits.max_head_bytes, "head within the limit");
    fuzz::require(data.substr(result.head_length - 4, 4) == "\r\n\r\n", "head ends with CRLF CRLF");
    fuzz::require(head.headers.size() <= limits.max_headers, "field count within the limit");
    fuzz::require(http::syntax::is_token(head.method), "method is a token");
    fuzz::require(head.version == http::HttpVersion::Http10 || !head.headers.empty(), "HTTP/1.1 has Host");
  } else if (result.status == http::ParseStatus::Error) {
    const int status = result.error.status;
    fuzz::require(status == 400 || status == 414 || status == 417 || status == 431 || status == 501,
                  "documented request status");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);

  http::RequestParser whole(fuzz_limits());
  const http::ParseResult whole_result = whole.parse(data);
  const std::string expected = describe(whole_result, whole.head());
  check_invariants(data, whole_result, whole.head());

  // Two pieces; the second call sees the bytes at a different address.
  const std::size_t split = fuzz::split_point(data);
  http::RequestParser pieces(fuzz_limits());
  http::ParseResult result = pieces.parse(data.substr(0, split));
  const auto moved = std::make_unique<std::string>(data);
  if (result.status == http::ParseStatus::NeedMore) result = pieces.parse(*moved);
  fuzz::require_same(expected, describe(result, pieces.head()), "whole and split request parses");

  if (size <= 4096) {
    http::RequestParser bytewise(fuzz_limits());
    for (std::size_t n = 0; n <= size; ++n) {
      result = bytewise.parse(data.substr(0, n));
      if (result.status != http::ParseStatus::NeedMore) break;
    }
    fuzz::require_same(expected, describe(result, bytewise.head()), "whole and byte-by-byte request parses");
  }

  if (whole_result.status == http::ParseStatus::Complete && whole.head().framing.kind == http::BodyKind::Chunked) {
    const std::string_view body = data.substr(whole_result.head_length);
    fuzz::require_same(fuzz::trace_chunked(body, body.size()), fuzz::trace_chunked(body, fuzz::split_point(body)),
                       "whole and split chunked bodies");
  }
  return 0;
}
