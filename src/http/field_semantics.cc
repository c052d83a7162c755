#include "http/field_semantics.h"

#include <limits>

#include "http/syntax.h"

namespace fulcrum::http {
namespace {

using syntax::equals_ignore_case;

// Codings a proxy may see before chunked; it forwards them untouched, it only needs to know that
// they are real codings (RFC 9110 §8.4.1 / IANA registry) and not a smuggling attempt.
bool is_known_coding(std::string_view coding) {
  return equals_ignore_case(coding, "gzip") || equals_ignore_case(coding, "x-gzip") ||
         equals_ignore_case(coding, "deflate") || equals_ignore_case(coding, "compress") ||
         equals_ignore_case(coding, "x-compress");
}

HttpError read_transfer_encoding(std::string_view value, FieldSummary& summary) {
  bool any = false;
  for (std::string_view coding : ListElements(value)) {
    any = true;
    if (!syntax::is_token(coding)) return {400, "invalid Transfer-Encoding"};
    // Once chunked has been seen it must be the last coding of the whole message (RFC 9112 §6.1).
    if (summary.chunked) return {400, "chunked is not the last transfer coding"};
    if (equals_ignore_case(coding, "chunked")) {
      summary.chunked = true;
    } else if (!is_known_coding(coding)) {
      summary.unknown_coding = true;
    }
  }
  if (!any) return {400, "empty Transfer-Encoding"};
  summary.has_transfer_encoding = true;
  return {};
}

HttpError read_connection(std::string_view value, FieldSummary& summary) {
  for (std::string_view option : ListElements(value)) {
    if (!syntax::is_token(option)) return {400, "invalid Connection option"};
    if (equals_ignore_case(option, "close")) {
      summary.connection_close = true;
    } else if (equals_ignore_case(option, "keep-alive")) {
      summary.connection_keep_alive = true;
    } else if (equals_ignore_case(option, "upgrade")) {
      summary.connection_upgrade = true;
    }
  }
  return {};
}

void read_expect(std::string_view value, FieldSummary& summary) {
  for (std::string_view expectation : ListElements(value)) {
    if (equals_ignore_case(expectation, "100-continue")) {
      summary.expect_continue = true;
    } else {
      summary.expect_other = true;
    }
  }
}

}  // namespace

bool parse_content_length(std::string_view value, std::uint64_t& length) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
  bool first = true;
  std::uint64_t agreed = 0;
  // Split by hand rather than with ListElements: an empty member is malformed here, not skipped.
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    const std::string_view member = syntax::trim_whitespace(value.substr(start, comma - start));
    if (member.empty()) return false;
    std::uint64_t number = 0;
    for (char c : member) {
      if (!syntax::is_digit(c)) return false;
      const unsigned digit = static_cast<unsigned>(c - '0');
      if (number > (kMax - digit) / 10) return false;
      number = number * 10 + digit;
    }
    if (!first && number != agreed) return false;
    agreed = number;
    first = false;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  length = agreed;
  return true;
}

HttpError summarize_fields(const HeaderList& headers, FieldSummary& summary) {
  for (const HeaderField field : headers) {
    // Dispatch on length first: most fields of a head are none of these six.
    switch (field.name.size()) {
      case 4:
        if (syntax::name_is(field.name, "host")) {
          if (summary.host_count++ == 0) summary.host = field.value;
          if (syntax::find_first_not_in(field.value, syntax::kHost) != field.value.size()) {
            return {400, "invalid Host"};
          }
        }
        break;
      case 6:
        if (syntax::name_is(field.name, "expect")) read_expect(field.value, summary);
        break;
      case 7:
        if (syntax::name_is(field.name, "upgrade") && !summary.has_upgrade) {
          summary.has_upgrade = true;
          summary.upgrade = field.value;
        }
        break;
      case 10:
        if (syntax::name_is(field.name, "connection")) {
          if (HttpError error = read_connection(field.value, summary)) return error;
        }
        break;
      case 14:
        if (syntax::name_is(field.name, "content-length")) {
          std::uint64_t length = 0;
          if (!parse_content_length(field.value, length)) return {400, "invalid Content-Length"};
          if (summary.has_content_length && length != summary.content_length) {
            return {400, "conflicting Content-Length"};
          }
          summary.has_content_length = true;
          summary.content_length = length;
        }
        break;
      case 17:
        if (syntax::name_is(field.name, "transfer-encoding")) {
          if (HttpError error = read_transfer_encoding(field.value, summary)) return error;
        }
        break;
      default:
        break;
    }
  }
  return {};
}

}  // namespace fulcrum::http
