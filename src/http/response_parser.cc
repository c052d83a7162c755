#include "http/response_parser.h"

#include <algorithm>

#include "http/field_semantics.h"
#include "http/syntax.h"

namespace fulcrum::http {
namespace {

constexpr std::size_t kMaxHeadBytes = std::size_t{1} << 31;
constexpr std::string_view kVersionPrefix = "HTTP/";

HeadLimits clamp(HeadLimits limits) {
  limits.max_head_bytes = std::min(limits.max_head_bytes, kMaxHeadBytes);
  return limits;
}

}  // namespace

ResponseParser::ResponseParser(HeadLimits limits, Method request_method)
    : limits_(clamp(limits)), request_method_(request_method), fields_(limits.max_headers) {}

void ResponseParser::reset(Method request_method) {
  request_method_ = request_method;
  fields_.clear();
  lines_.reset();
  phase_ = Phase::StatusLine;
  head_ = ResponseHead{};
  result_ = ParseResult{};
}

ParseResult ResponseParser::fail(HttpError error) {
  phase_ = Phase::Failed;
  // Whatever the backend did wrong, the client sees a bad gateway.
  result_ = {ParseStatus::Error, 0, {502, error.reason}};
  return result_;
}

ParseResult ResponseParser::parse(std::string_view buffered) {
  if (phase_ == Phase::Complete || phase_ == Phase::Failed) return result_;
  if (phase_ == Phase::StatusLine) {
    const ParseResult start = parse_start(buffered);
    if (phase_ != Phase::Fields) return start;
  }
  HttpError error;
  switch (fields_.read(buffered, limits_.max_head_bytes, lines_, error)) {
    case FieldTable::Outcome::NeedMore:
      return result_;
    case FieldTable::Outcome::TooLong:
      return fail({502, "response head too large"});
    case FieldTable::Outcome::TooMany:
      return fail({502, "too many header fields in response"});
    case FieldTable::Outcome::Invalid:
      return fail(error);
    case FieldTable::Outcome::Complete:
      break;
  }
  return complete(buffered);
}

ParseResult ResponseParser::parse_start(std::string_view buffered) {
  // A backend that does not start with "HTTP/" is not speaking HTTP/1: say so at its first byte.
  // Within the first five bytes no LF can have been accepted, so this cannot depend on splitting.
  const std::size_t prefix = std::min({buffered.size(), kVersionPrefix.size(), limits_.max_head_bytes});
  if (buffered.substr(0, prefix) != kVersionPrefix.substr(0, prefix)) return fail({502, "not an HTTP/1 response"});
  const LineScanner::Step step = lines_.next(buffered, limits_.max_head_bytes);
  switch (step.outcome) {
    case LineScanner::Outcome::NeedMore:
      return result_;
    case LineScanner::Outcome::TooLong:
      return fail({502, "response head too large"});
    case LineScanner::Outcome::BareLf:
      return fail({502, "bare LF"});
    case LineScanner::Outcome::Line:
      break;
  }
  if (HttpError error = parse_status_line(buffered.substr(step.begin, step.end - step.begin))) return fail(error);
  reason_offset_ += step.begin;
  phase_ = Phase::Fields;
  return result_;
}

// status-line = HTTP-version SP 3DIGIT SP [reason-phrase]. The SP before an empty reason is
// optional here: servers commonly omit it and the reason carries no meaning (RFC 9112 §4).
HttpError ResponseParser::parse_status_line(std::string_view line) {
  const std::string_view version = line.substr(0, 8);
  if (version == "HTTP/1.1") {
    version_ = HttpVersion::Http11;
  } else if (version == "HTTP/1.0") {
    version_ = HttpVersion::Http10;
  } else {
    return {502, "unsupported HTTP version in response"};
  }
  if (line.size() < 12 || line[8] != ' ' || !syntax::is_digit(line[9]) || !syntax::is_digit(line[10]) ||
      !syntax::is_digit(line[11])) {
    return {502, "malformed status line"};
  }
  status_code_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_code_ < 100 || status_code_ > 599) return {502, "invalid status code"};
  if (line.size() == 12) {
    reason_offset_ = 12;
    reason_length_ = 0;
    return {};
  }
  if (line[12] != ' ') return {502, "malformed status line"};
  const std::string_view reason = line.substr(13);
  if (syntax::find_first_not_in(reason, syntax::kFieldValue) != reason.size()) {
    return {502, "invalid character in reason phrase"};
  }
  reason_offset_ = 13;
  reason_length_ = reason.size();
  return {};
}

ParseResult ResponseParser::complete(std::string_view buffered) {
  const char* base = buffered.data();
  head_ = ResponseHead{};
  head_.version = version_;
  head_.headers = fields_.view(base);
  head_.head_length = lines_.line_start();
  head_.status_code = status_code_;
  head_.reason = std::string_view(base + reason_offset_, reason_length_);

  FieldSummary fields;
  if (HttpError error = summarize_fields(head_.headers, fields)) return fail(error);
  const bool http11 = version_ == HttpVersion::Http11;
  if (fields.has_transfer_encoding) {
    if (!http11) return fail({502, "Transfer-Encoding in an HTTP/1.0 response"});
    if (fields.has_content_length) return fail({502, "both Content-Length and Transfer-Encoding in response"});
  }

  const int code = status_code_;
  head_.switching_protocols = code == 101;
  head_.interim = code >= 100 && code < 200 && code != 101;
  head_.tunnel = request_method_ == Method::Connect && code >= 200 && code < 300;
  // RFC 9112 §6.3, in its order: these responses end at the end of their head.
  const bool bodiless = request_method_ == Method::Head || (code >= 100 && code < 200) || code == 204 ||
                        code == 304 || head_.tunnel;
  if (bodiless) {
    head_.framing = {BodyKind::None, 0};
  } else if (fields.has_transfer_encoding) {
    // A response may end its codings with something other than chunked: then only closing the
    // connection delimits it.
    head_.framing = {fields.chunked ? BodyKind::Chunked : BodyKind::UntilClose, 0};
  } else if (fields.has_content_length) {
    head_.framing = {BodyKind::ContentLength, fields.content_length};
  } else {
    head_.framing = {BodyKind::UntilClose, 0};
  }

  head_.keep_alive = !fields.connection_close && (http11 || fields.connection_keep_alive) &&
                     head_.framing.kind != BodyKind::UntilClose && !head_.switching_protocols && !head_.tunnel;
  head_.upgrade = fields.upgrade;

  phase_ = Phase::Complete;
  result_ = {ParseStatus::Complete, head_.head_length, {}};
  return result_;
}

}  // namespace fulcrum::http
