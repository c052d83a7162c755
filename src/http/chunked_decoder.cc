#include "http/chunked_decoder.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "http/field_line.h"
#include "http/syntax.h"

namespace fulcrum::http {
namespace {

constexpr std::uint64_t kMaxChunkSize = std::numeric_limits<std::int64_t>::max();

}  // namespace

ChunkedDecoder::ChunkedDecoder(ChunkedLimits limits) : limits_(limits) {}

void ChunkedDecoder::reset() {
  state_ = State::SizeFirst;
  pending_ = 0;
  size_ = chunk_size_ = remaining_ = data_bytes_ = 0;
  error_ = {};
  trailer_bytes_.clear();
  trailer_spans_.clear();
}

ChunkedStep ChunkedDecoder::fail(HttpError error) {
  state_ = State::Failed;
  error_ = error;
  pending_ = 0;
  return {ChunkedStatus::Error, ChunkPart::Data, 0, error};
}

ChunkedStep ChunkedDecoder::step(std::string_view input) {
  switch (state_) {
    case State::Done:
      return {ChunkedStatus::Done, ChunkPart::End, 0, {}};
    case State::Failed:
      return {ChunkedStatus::Error, ChunkPart::Data, 0, error_};
    case State::Data: {
      if (input.empty()) return {};
      const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
      remaining_ -= length;
      data_bytes_ += length;
      if (remaining_ == 0) state_ = State::DataCr;
      return {ChunkedStatus::Part, ChunkPart::Data, length, {}};
    }
    case State::DataCr:
    case State::DataLf:
      return step_data_end(input);
    case State::TrailerLine:
      return step_trailer_line(input);
    default:
      return step_size_line(input);
  }
}

ChunkedStep ChunkedDecoder::step_data_end(std::string_view input) {
  for (std::size_t i = pending_; i < input.size(); ++i) {
    if (state_ == State::DataCr) {
      if (input[i] != '\r') return fail({400, "missing CRLF after chunk data"});
      state_ = State::DataLf;
    } else {
      if (input[i] != '\n') return fail({400, "missing CRLF after chunk data"});
      pending_ = 0;
      state_ = State::SizeFirst;
      return {ChunkedStatus::Part, ChunkPart::DataEnd, i + 1, {}};
    }
  }
  pending_ = input.size();
  return {};
}

// One byte at a time through the chunk-size line grammar (RFC 9112 §7.1.1):
//   chunk-size [ chunk-ext ] CRLF
//   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
// Whitespace is accepted only where BWS is; anything else, including whitespace before the CRLF,
// is rejected, because lenient chunk-size parsing is a classic request-smuggling vector.
ChunkedStep ChunkedDecoder::step_size_line(std::string_view input) {
  const HttpError bad_extension{400, "invalid chunk extension"};
  for (std::size_t i = pending_; i < input.size(); ++i) {
    const char c = input[i];
    // The CR that ends a line of exactly the maximum length is not content.
    if (i >= limits_.max_size_line_bytes && state_ != State::SizeLf && c != '\r') {
      return fail({400, "chunk size line too long"});
    }
    const bool space = syntax::is_whitespace(c);
    switch (state_) {
      case State::SizeFirst:
      case State::SizeDigits: {
        const int digit = syntax::hex_value(c);
        if (digit >= 0) {
          if (size_ > (kMaxChunkSize - static_cast<std::uint64_t>(digit)) / 16) {
            return fail({400, "chunk size too large"});
          }
          size_ = size_ * 16 + static_cast<std::uint64_t>(digit);
          state_ = State::SizeDigits;
        } else if (state_ == State::SizeFirst) {
          return fail({400, "invalid chunk size"});
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == ';') {
          state_ = State::ExtBeforeName;
        } else if (space) {
          state_ = State::ExtBeforeSemicolon;
        } else {
          return fail({400, "invalid chunk size"});
        }
        break;
      }
      case State::ExtBeforeSemicolon:
        if (c == ';') {
          state_ = State::ExtBeforeName;
        } else if (!space) {
          return fail(bad_extension);
        }
        break;
      case State::ExtBeforeName:
        if (syntax::is_token_char(c)) {
          state_ = State::ExtName;
        } else if (!space) {
          return fail(bad_extension);
        }
        break;
      case State::ExtName:
      case State::ExtAfterName:
        if (state_ == State::ExtName && syntax::is_token_char(c)) break;
        if (c == '=') {
          state_ = State::ExtBeforeValue;
        } else if (c == ';') {
          state_ = State::ExtBeforeName;
        } else if (c == '\r' && state_ == State::ExtName) {
          state_ = State::SizeLf;
        } else if (space) {
          state_ = State::ExtAfterName;
        } else {
          return fail(bad_extension);
        }
        break;
      case State::ExtBeforeValue:
        if (syntax::is_token_char(c)) {
          state_ = State::ExtToken;
        } else if (c == '"') {
          state_ = State::ExtQuoted;
        } else if (!space) {
          return fail(bad_extension);
        }
        break;
      case State::ExtToken:
      case State::ExtAfterQuoted:
        if (state_ == State::ExtToken && syntax::is_token_char(c)) break;
        if (c == ';') {
          state_ = State::ExtBeforeName;
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (space) {
          state_ = State::ExtBeforeSemicolon;
        } else {
          return fail(bad_extension);
        }
        break;
      case State::ExtQuoted:
        if (c == '"') {
          state_ = State::ExtAfterQuoted;
        } else if (c == '\\') {
          state_ = State::ExtQuotedPair;
        } else if (!syntax::has_class(c, syntax::kQuotedText)) {
          return fail(bad_extension);
        }
        break;
      case State::ExtQuotedPair:
        if (!syntax::is_field_value_char(c)) return fail(bad_extension);
        state_ = State::ExtQuoted;
        break;
      case State::SizeLf: {
        if (c != '\n') return fail({400, "bare CR in chunk size line"});
        pending_ = 0;
        chunk_size_ = size_;
        size_ = 0;
        if (chunk_size_ == 0) {
          state_ = State::TrailerLine;
          return {ChunkedStatus::Part, ChunkPart::LastChunk, i + 1, {}};
        }
        remaining_ = chunk_size_;
        state_ = State::Data;
        return {ChunkedStatus::Part, ChunkPart::SizeLine, i + 1, {}};
      }
      default:
        return fail({400, "chunked decoder in an impossible state"});
    }
  }
  pending_ = input.size();
  return {};
}

ChunkedStep ChunkedDecoder::step_trailer_line(std::string_view input) {
  // The LF must come within the room left for trailers: content + CR + LF.
  const std::size_t room = limits_.max_trailer_bytes - trailer_bytes_.size();
  const std::size_t bound = room + 2;
  const std::size_t limit = std::min(input.size(), bound);
  const void* found = pending_ < limit ? std::memchr(input.data() + pending_, '\n', limit - pending_) : nullptr;
  if (found == nullptr) {
    if (input.size() >= bound) return fail({431, "trailers too large"});
    pending_ = limit;
    return {};
  }
  const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(found) - input.data());
  if (lf == 0 || input[lf - 1] != '\r') return fail({400, "bare LF in trailers"});
  pending_ = 0;
  if (lf == 1) {
    state_ = State::Done;
    return {ChunkedStatus::Done, ChunkPart::End, 2, {}};
  }
  if (trailer_spans_.size() >= limits_.max_trailers) return fail({431, "too many trailers"});
  if (trailer_spans_.empty()) trailer_spans_.reserve(limits_.max_trailers);
  // Keep a copy: the caller forwards and discards its bytes, but the session may still want
  // the trailer values once the body is complete.
  const std::size_t begin = trailer_bytes_.size();
  trailer_bytes_.append(input.data(), lf - 1);
  HeaderSpan span;
  if (HttpError error = parse_field_line(trailer_bytes_, begin, trailer_bytes_.size(), span)) {
    return fail(error);
  }
  trailer_spans_.push_back(span);
  return {ChunkedStatus::Part, ChunkPart::Trailer, lf + 1, {}};
}

}  // namespace fulcrum::http
