// The two pieces shared by the request and response head parsers and the trailer decoder:
// finding CRLF-terminated lines in a growing buffer without ever rescanning a byte, and parsing
// one field line strictly.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "http/header_list.h"
#include "http/parse_result.h"

namespace fulcrum::http {

/// Finds the lines of a head in a buffer that grows between calls. It remembers how far it has
/// looked, so feeding a head one byte at a time costs O(head) in total, not O(head²).
///
/// Only CRLF ends a line. An LF not preceded by CR is reported (BareLf) so the caller can reject
/// at once instead of waiting for a CRLF CRLF that a lenient peer may never send. A CR not followed
/// by LF stays inside the line, where the line's own validation rejects it as a control byte.
class LineScanner {
 public:
  /// What next() found.
  enum class Outcome : unsigned char {
    /// A complete line: [begin, end) without its CRLF. The scanner moved past the CRLF.
    Line,
    /// No line end among the bytes so far; call again with more.
    NeedMore,
    /// No line end below `bound`: the line is too long for the caller's limit.
    TooLong,
    /// An LF without CR before it at offset `end`.
    BareLf,
  };

  /// One result of next().
  struct Step {
    Outcome outcome = Outcome::NeedMore;
    std::size_t begin = 0;
    std::size_t end = 0;
  };

  /// Looks for the end of the current line in `buffered` (all bytes of the message so far, from
  /// its first byte; earlier calls saw a prefix of them). The LF must sit at an offset below
  /// `bound`, the caller's limit; bytes at or past `bound` are never examined.
  Step next(std::string_view buffered, std::size_t bound);

  /// Offset where the current (not yet complete) line starts; after the last line of a head,
  /// the length of the head.
  std::size_t line_start() const { return line_start_; }
  /// Bytes examined so far: a cost measure that tests use to prove linear behaviour.
  std::size_t bytes_examined() const { return bytes_examined_; }
  /// Forgets everything, for the next message.
  void reset() { *this = LineScanner(); }

 private:
  std::size_t line_start_ = 0;
  std::size_t scanned_ = 0;
  std::size_t bytes_examined_ = 0;
};

/// The field lines of one head, read as they complete into a table allocated once (when the
/// parser is built) with the configured maximum as capacity: no allocation per field.
class FieldTable {
 public:
  /// What read() found.
  enum class Outcome : unsigned char {
    /// The empty line that ends the head was consumed; LineScanner::line_start() is the head length.
    Complete,
    /// More bytes are needed.
    NeedMore,
    /// No line end below the caller's bound: the head is too large.
    TooLong,
    /// One field more than the capacity.
    TooMany,
    /// A malformed field line or a bare LF; see the error.
    Invalid,
  };

  /// A table for at most `capacity` fields.
  explicit FieldTable(std::size_t capacity);

  /// Reads complete field lines from `buffered` through `lines` until the empty line; `bound` is
  /// the offset below which the head must end. Sets `error` when Invalid.
  Outcome read(std::string_view buffered, std::size_t bound, LineScanner& lines, HttpError& error);

  /// The fields read, as views over `base`, the buffer address when the head completed.
  HeaderList view(const char* base) const { return HeaderList(base, spans_.get(), count_); }
  std::size_t size() const { return count_; }
  /// Forgets the fields, keeping the table.
  void clear() { count_ = 0; }

 private:
  std::unique_ptr<HeaderSpan[]> spans_;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
};

/// Parses the non-empty field line `buffered[begin, end)` (no CRLF) strictly into `span`:
/// `token ":" OWS value OWS`, where the value holds VCHAR, obs-text, SP and HTAB only.
/// Rejects (400) a line starting with whitespace (obs-fold), whitespace or any non-token byte
/// before the colon, an empty name, a missing colon and control bytes (NUL, CR, DEL...) in the
/// value. Offsets in `span` are relative to buffered.data().
HttpError parse_field_line(std::string_view buffered, std::size_t begin, std::size_t end, HeaderSpan& span);

}  // namespace fulcrum::http
