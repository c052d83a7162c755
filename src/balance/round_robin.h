// round_robin: every backend in turn, ignoring weights.
#pragma once

#include <cstddef>
#include <optional>

#include "balance/strategy.h"

namespace fulcrum::balance {

/// Cycles through the backends in order, skipping excluded ones. The cursor is per instance, so
/// each worker cycles on its own (workers together still spread evenly, just not in lockstep).
/// Owned by one worker thread; not thread-safe.
class RoundRobin final : public Strategy {
 public:
  /// `backend_count` is the number of candidates; weights are ignored by design.
  explicit RoundRobin(std::size_t backend_count);

  /// Returns the first backend at or after the cursor that is not excluded, and moves the cursor
  /// past it. O(n) worst case (when most backends are excluded).
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  std::size_t backend_count_;
  std::size_t cursor_ = 0;  // the index tried first by the next pick
};

}  // namespace fulcrum::balance
