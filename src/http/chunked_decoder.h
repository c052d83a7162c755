// A streaming validator of chunked bodies (RFC 9112 §7.1) that tells the caller what each byte is,
// so a proxy can forward the body exactly as received (never re-encoded) while being sure it is
// well formed: chunk-size lines, chunk data, the CRLF after the data, the last chunk, trailer
// lines and the final CRLF.
//
// Resumable at any byte: a framing line (size line, CRLF, trailer line) is reported only when it
// is complete; until then step() returns NeedMore without consuming, and the caller presents the
// same unconsumed bytes again, followed by more. The bytes already validated are not examined
// again. Chunk data is reported as soon as any arrives, in as large spans as the input allows.
//
// Owned by one session on one worker thread. No I/O; allocates only when trailers arrive (once,
// bounded by ChunkedLimits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_list.h"
#include "http/parse_result.h"

namespace fulcrum::http {

/// Bounds on the framing of a chunked body.
struct ChunkedLimits {
  /// A chunk-size line without its CRLF: the size digits and all chunk extensions. Beyond: 400.
  std::size_t max_size_line_bytes = 1024;
  /// All trailer lines together, without their CRLFs. Beyond: 431.
  std::size_t max_trailer_bytes = 8 * 1024;
  /// Trailer fields. One more: 431.
  std::size_t max_trailers = 32;
};

/// What a span of the chunked body is.
enum class ChunkPart : std::uint8_t {
  /// `chunk-size [chunk-ext] CRLF` of a chunk with data; chunk_size() tells the size.
  SizeLine,
  /// Chunk data (possibly part of a chunk).
  Data,
  /// The CRLF that ends a chunk's data.
  DataEnd,
  /// `0 [chunk-ext] CRLF`: the last chunk; trailers follow.
  LastChunk,
  /// One trailer field line, CRLF included; the decoder keeps a copy (trailers()).
  Trailer,
  /// The final CRLF: the body is complete.
  End,
};

/// Where the decoder stands after a call to step().
enum class ChunkedStatus : std::uint8_t {
  /// The first `length` bytes of the input are a `part`; call again with the rest.
  Part,
  /// Nothing consumed: present the same input again with more bytes after it.
  NeedMore,
  /// The first `length` bytes of the input are the final CRLF (`part` End); the body is complete.
  /// Bytes after them belong to the next message. Later calls return Done with length 0.
  Done,
  /// The body is malformed; `error` has 400 (or 431 for trailers over the limits). A proxy maps it
  /// to 502 when the body came from a backend.
  Error,
};

/// The outcome of one step.
struct ChunkedStep {
  ChunkedStatus status = ChunkedStatus::NeedMore;
  ChunkPart part = ChunkPart::Data;
  std::size_t length = 0;
  HttpError error;

  friend bool operator==(const ChunkedStep&, const ChunkedStep&) = default;
};

/// See the file comment.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(ChunkedLimits limits = {});

  /// Classifies the next span of `input`, which starts at the first byte not consumed yet.
  /// Cost: O(new bytes) for framing, O(1) for data.
  ChunkedStep step(std::string_view input);

  /// Prepares for the next chunked body, keeping the limits.
  void reset();

  /// True once the final CRLF was consumed.
  bool done() const { return state_ == State::Done; }
  /// The size of the chunk whose SizeLine was reported last.
  std::uint64_t chunk_size() const { return chunk_size_; }
  /// Chunk data bytes reported so far.
  std::uint64_t data_bytes() const { return data_bytes_; }
  /// The trailer fields received so far (all of them once done()). Views into the decoder's own
  /// copy: valid until the next step() or reset().
  HeaderList trailers() const { return HeaderList(trailer_bytes_.data(), trailer_spans_.data(), trailer_spans_.size()); }

 private:
  enum class State : std::uint8_t {
    SizeFirst, SizeDigits, ExtBeforeSemicolon, ExtBeforeName, ExtName, ExtAfterName, ExtBeforeValue,
    ExtToken, ExtQuoted, ExtQuotedPair, ExtAfterQuoted, SizeLf,
    Data, DataCr, DataLf,
    TrailerLine,
    Done, Failed,
  };

  ChunkedStep step_size_line(std::string_view input);
  ChunkedStep step_data_end(std::string_view input);
  ChunkedStep step_trailer_line(std::string_view input);
  ChunkedStep fail(HttpError error);

  ChunkedLimits limits_;
  State state_ = State::SizeFirst;
  // Bytes at the start of the input already validated as part of the current framing line.
  std::size_t pending_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t chunk_size_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t data_bytes_ = 0;
  HttpError error_;
  // Trailer lines without CRLF, back to back; the spans index into this copy.
  std::string trailer_bytes_;
  std::vector<HeaderSpan> trailer_spans_;
};

}  // namespace fulcrum::http
