#include "http/request_parser.h"

#include <algorithm>

#include "http/field_semantics.h"
#include "http/syntax.h"

namespace fulcrum::http {
namespace {

// Offsets are stored as 32 bits; no sane head comes near this.
constexpr std::size_t kMaxHeadBytes = std::size_t{1} << 31;

HeadLimits clamp(HeadLimits limits) {
  limits.max_head_bytes = std::min(limits.max_head_bytes, kMaxHeadBytes);
  // The request line lives inside the head; this also keeps offset + limit from overflowing.
  limits.max_request_line_bytes = std::min(limits.max_request_line_bytes, limits.max_head_bytes);
  return limits;
}

}  // namespace

RequestParser::RequestParser(HeadLimits limits) : limits_(clamp(limits)), fields_(limits.max_headers) {}

void RequestParser::reset() {
  fields_.clear();
  lines_.reset();
  phase_ = Phase::RequestLine;
  method_checked_ = 0;
  method_check_over_ = false;
  method_bytes_examined_ = 0;
  head_ = RequestHead{};
  result_ = ParseResult{};
}

ParseResult RequestParser::fail(HttpError error) {
  phase_ = Phase::Failed;
  result_ = {ParseStatus::Error, 0, error};
  return result_;
}

ParseResult RequestParser::parse(std::string_view buffered) {
  if (phase_ == Phase::Complete || phase_ == Phase::Failed) return result_;
  if (phase_ == Phase::RequestLine) {
    const ParseResult start = parse_start(buffered);
    if (phase_ != Phase::Fields) return start;
  }
  HttpError error;
  switch (fields_.read(buffered, limits_.max_head_bytes, lines_, error)) {
    case FieldTable::Outcome::NeedMore:
      return result_;
    case FieldTable::Outcome::TooLong:
      return fail({431, "request header fields too large"});
    case FieldTable::Outcome::TooMany:
      return fail({431, "too many header fields"});
    case FieldTable::Outcome::Invalid:
      return fail(error);
    case FieldTable::Outcome::Complete:
      break;
  }
  return complete(buffered);
}

// Skips the empty lines a client may send before a request (RFC 9112 §2.2), then reads the
// request line. Leaves phase_ at Fields once the request line is valid.
ParseResult RequestParser::parse_start(std::string_view buffered) {
  while (true) {
    // The request line must end below this offset: both its own limit and the head's apply.
    const std::size_t bound =
        std::min(limits_.max_head_bytes, lines_.line_start() + limits_.max_request_line_bytes + 2);
    if (HttpError error = check_method_prefix(buffered, bound)) return fail(error);
    const LineScanner::Step step = lines_.next(buffered, bound);
    switch (step.outcome) {
      case LineScanner::Outcome::NeedMore:
        return result_;
      case LineScanner::Outcome::TooLong:
        return fail({414, "request line too long"});
      case LineScanner::Outcome::BareLf:
        return fail({400, "bare LF"});
      case LineScanner::Outcome::Line:
        break;
    }
    if (step.begin == step.end) {
      method_checked_ = lines_.line_start();
      method_check_over_ = false;
      continue;
    }
    if (HttpError error = parse_request_line(buffered, step.begin, step.end)) return fail(error);
    phase_ = Phase::Fields;
    return result_;
  }
}

// Validates the method bytes as they arrive, so a peer speaking another protocol (TLS, binary
// junk) is turned away at its first wrong byte instead of after the request-line limit. It looks
// only below `bound`, like the line scanner, so the verdict does not depend on how input is split.
HttpError RequestParser::check_method_prefix(std::string_view buffered, std::size_t bound) {
  if (method_check_over_) return {};
  const std::size_t line_start = lines_.line_start();
  const std::size_t limit = std::min(buffered.size(), bound);
  std::size_t i = std::max(method_checked_, line_start);
  if (i >= limit) return {};
  const std::size_t first = i;
  while (i < limit && syntax::is_token_char(buffered[i])) ++i;
  method_bytes_examined_ += i - first;
  method_checked_ = i;
  if (i == limit) return {};
  method_check_over_ = true;
  // The SP after a method, or the CR of an empty line being skipped: the line scanner decides.
  if ((buffered[i] == ' ' && i > line_start) || (buffered[i] == '\r' && i == line_start)) return {};
  return {400, "invalid method"};
}

HttpError RequestParser::parse_request_line(std::string_view buffered, std::size_t begin, std::size_t end) {
  const std::string_view line = buffered.substr(begin, end - begin);
  const std::size_t method_end = syntax::find_first_not_in(line, syntax::kToken);
  if (method_end == 0 || method_end == line.size() || line[method_end] != ' ') return {400, "invalid method"};
  const std::size_t target_begin = method_end + 1;
  const std::size_t target_end = line.find(' ', target_begin);
  if (target_end == std::string_view::npos) return {400, "malformed request line"};
  const std::string_view method = line.substr(0, method_end);
  const std::string_view target = line.substr(target_begin, target_end - target_begin);
  const std::string_view version = line.substr(target_end + 1);

  if (version == "HTTP/1.1") {
    version_ = HttpVersion::Http11;
  } else if (version == "HTTP/1.0") {
    version_ = HttpVersion::Http10;
  } else {
    // HTTP/2.0 and HTTP/0.9 included: an HTTP/1 connection speaks 1.0 or 1.1 only.
    return {400, "unsupported HTTP version"};
  }
  method_kind_ = method_from_token(method);
  if (HttpError error = parse_request_target(target, method_kind_, target_parts_)) return error;
  method_offset_ = begin;
  method_length_ = method.size();
  target_offset_ = begin + target_begin;
  target_length_ = target.size();
  return {};
}

ParseResult RequestParser::complete(std::string_view buffered) {
  const char* base = buffered.data();
  head_ = RequestHead{};
  head_.version = version_;
  head_.headers = fields_.view(base);
  head_.head_length = lines_.line_start();
  head_.method = std::string_view(base + method_offset_, method_length_);
  head_.method_kind = method_kind_;
  target_parts_.apply(std::string_view(base + target_offset_, target_length_), head_);

  FieldSummary fields;
  if (HttpError error = summarize_fields(head_.headers, fields)) return fail(error);
  const bool http11 = version_ == HttpVersion::Http11;
  if (fields.host_count > 1) return fail({400, "repeated Host"});
  if (fields.host_count == 0 && http11) return fail({400, "missing Host"});
  head_.host = fields.host;

  if (fields.has_transfer_encoding) {
    // RFC 9112 §6.1 calls an HTTP/1.0 message with Transfer-Encoding faulty, and a request with
    // both framings the textbook smuggling vector: refuse both rather than pick one.
    if (!http11) return fail({400, "Transfer-Encoding in an HTTP/1.0 request"});
    if (fields.has_content_length) return fail({400, "both Content-Length and Transfer-Encoding"});
    if (!fields.chunked) return fail({400, "last transfer coding is not chunked"});
    if (fields.unknown_coding) return fail({501, "unsupported transfer coding"});
    head_.framing = {BodyKind::Chunked, 0};
  } else if (fields.has_content_length) {
    head_.framing = {BodyKind::ContentLength, fields.content_length};
  }
  // RFC 9110 §10.1.1: an HTTP/1.0 request's expectations are ignored.
  if (http11 && fields.expect_other) return fail({417, "unsupported expectation"});
  head_.expect_continue = http11 && fields.expect_continue;

  head_.keep_alive = !fields.connection_close && (http11 || fields.connection_keep_alive);
  head_.upgrade = fields.upgrade;
  // RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored; it only counts when Connection lists it.
  head_.upgrade_requested = http11 && fields.has_upgrade && fields.connection_upgrade;

  phase_ = Phase::Complete;
  result_ = {ParseStatus::Complete, head_.head_length, {}};
  return result_;
}

}  // namespace fulcrum::http
