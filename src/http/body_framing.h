// How a message body is delimited, and a tracker that tells a session which of the bytes it reads
// still belong to the body, whatever the framing. The session forwards those bytes as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/chunked_decoder.h"
#include "http/parse_result.h"

namespace fulcrum::http {

/// The delimitation of a body (RFC 9112 §6.3).
enum class BodyKind : std::uint8_t {
  /// No body: the next message starts right after the head.
  None,
  /// Exactly `content_length` bytes (possibly 0).
  ContentLength,
  /// A chunked body, delimited by its last chunk and trailers.
  Chunked,
  /// Everything until the peer closes (responses only).
  UntilClose,
};

/// The framing a head implies.
struct BodyFraming {
  BodyKind kind = BodyKind::None;
  /// When kind is ContentLength.
  std::uint64_t content_length = 0;

  friend bool operator==(const BodyFraming&, const BodyFraming&) = default;
};

/// The outcome of BodyTracker::advance().
struct BodyProgress {
  /// Bytes at the start of the input that belong to the body: forward them and drop them.
  std::size_t consumed = 0;
  /// The body is complete; bytes after `consumed` belong to the next message.
  bool complete = false;
  /// A malformed chunked body (400 / 431; map to 502 for a backend's body).
  HttpError error;
};

/// Follows one body to its end. Owned by a session on one worker thread; no I/O, no allocation
/// except the chunked decoder's trailer copy.
class BodyTracker {
 public:
  /// Tracks a body delimited by `framing`.
  explicit BodyTracker(BodyFraming framing, ChunkedLimits limits = {});

  /// Takes as much of `input` (the unconsumed bytes read so far, in order) as belongs to the body.
  /// For a chunked body an incomplete framing line is not consumed: present it again with more.
  BodyProgress advance(std::string_view input);

  /// True once the body is complete (immediately for None and Content-Length 0). An UntilClose
  /// body is complete only when the caller sees the peer close; it never is here.
  bool complete() const { return complete_; }
  /// Body bytes still expected for a Content-Length body.
  std::uint64_t remaining() const { return remaining_; }
  /// The chunked decoder, for its trailers and counters.
  const ChunkedDecoder& chunked() const { return chunked_; }

 private:
  BodyFraming framing_;
  std::uint64_t remaining_ = 0;
  bool complete_ = false;
  ChunkedDecoder chunked_;
};

}  // namespace fulcrum::http
