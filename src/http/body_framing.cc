#include "http/body_framing.h"

#include <algorithm>

namespace fulcrum::http {

BodyTracker::BodyTracker(BodyFraming framing, ChunkedLimits limits)
    : framing_(framing), chunked_(limits) {
  switch (framing.kind) {
    case BodyKind::None:
      complete_ = true;
      break;
    case BodyKind::ContentLength:
      remaining_ = framing.content_length;
      complete_ = remaining_ == 0;
      break;
    case BodyKind::Chunked:
    case BodyKind::UntilClose:
      break;
  }
}

BodyProgress BodyTracker::advance(std::string_view input) {
  BodyProgress progress;
  if (complete_) {
    progress.complete = true;
    return progress;
  }
  switch (framing_.kind) {
    case BodyKind::None:
      break;
    case BodyKind::ContentLength: {
      const std::size_t taken = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
      remaining_ -= taken;
      progress.consumed = taken;
      complete_ = remaining_ == 0;
      break;
    }
    case BodyKind::UntilClose:
      progress.consumed = input.size();
      break;
    case BodyKind::Chunked:
      while (true) {
        const ChunkedStep step = chunked_.step(input.substr(progress.consumed));
        if (step.status == ChunkedStatus::Error) {
          progress.error = step.error;
          break;
        }
        if (step.status == ChunkedStatus::NeedMore) break;
        progress.consumed += step.length;
        if (step.status == ChunkedStatus::Done) {
          complete_ = true;
          break;
        }
      }
      break;
  }
  progress.complete = complete_;
  return progress;
}

}  // namespace fulcrum::http
