#include "http/field_line.h"

#include <algorithm>
#include <cstring>

#include "http/syntax.h"

namespace fulcrum::http {

LineScanner::Step LineScanner::next(std::string_view buffered, std::size_t bound) {
  const std::size_t limit = std::min(buffered.size(), bound);
  if (scanned_ < limit) {
    const char* from = buffered.data() + scanned_;
    const void* found = std::memchr(from, '\n', limit - scanned_);
    if (found != nullptr) {
      const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(found) - buffered.data());
      bytes_examined_ += lf + 1 - scanned_;
      if (lf == line_start_ || buffered[lf - 1] != '\r') {
        // Stay put: the caller turns this into a sticky error.
        scanned_ = lf;
        return {Outcome::BareLf, line_start_, lf};
      }
      const Step line{Outcome::Line, line_start_, lf - 1};
      line_start_ = scanned_ = lf + 1;
      return line;
    }
    bytes_examined_ += limit - scanned_;
    scanned_ = limit;
  }
  if (buffered.size() >= bound) return {Outcome::TooLong, line_start_, scanned_};
  return {Outcome::NeedMore, line_start_, scanned_};
}

FieldTable::FieldTable(std::size_t capacity)
    : spans_(std::make_unique<HeaderSpan[]>(capacity)), capacity_(capacity) {}

FieldTable::Outcome FieldTable::read(std::string_view buffered, std::size_t bound, LineScanner& lines,
                                     HttpError& error) {
  while (true) {
    const LineScanner::Step step = lines.next(buffered, bound);
    switch (step.outcome) {
      case LineScanner::Outcome::NeedMore:
        return Outcome::NeedMore;
      case LineScanner::Outcome::TooLong:
        return Outcome::TooLong;
      case LineScanner::Outcome::BareLf:
        error = {400, "bare LF"};
        return Outcome::Invalid;
      case LineScanner::Outcome::Line:
        break;
    }
    if (step.begin == step.end) return Outcome::Complete;
    if (count_ == capacity_) return Outcome::TooMany;
    error = parse_field_line(buffered, step.begin, step.end, spans_[count_]);
    if (error) return Outcome::Invalid;
    ++count_;
  }
}

HttpError parse_field_line(std::string_view buffered, std::size_t begin, std::size_t end, HeaderSpan& span) {
  const std::string_view line = buffered.substr(begin, end - begin);
  if (line.empty()) return {400, "empty header line"};
  if (syntax::is_whitespace(line.front())) return {400, "obsolete line folding"};
  const std::size_t colon = syntax::find_first_not_in(line, syntax::kToken);
  if (colon == line.size()) return {400, "header line without colon"};
  if (line[colon] != ':') {
    if (syntax::is_whitespace(line[colon])) return {400, "whitespace before colon"};
    return {400, "invalid character in header name"};
  }
  if (colon == 0) return {400, "empty header name"};

  std::size_t value_begin = colon + 1;
  while (value_begin < line.size() && syntax::is_whitespace(line[value_begin])) ++value_begin;
  if (syntax::find_first_not_in(line, syntax::kFieldValue, value_begin) != line.size()) {
    return {400, "invalid character in header value"};
  }
  std::size_t value_end = line.size();
  while (value_end > value_begin && syntax::is_whitespace(line[value_end - 1])) --value_end;

  span.name_offset = static_cast<std::uint32_t>(begin);
  span.name_length = static_cast<std::uint32_t>(colon);
  span.value_offset = static_cast<std::uint32_t>(begin + value_begin);
  span.value_length = static_cast<std::uint32_t>(value_end - value_begin);
  return {};
}

}  // namespace fulcrum::http
