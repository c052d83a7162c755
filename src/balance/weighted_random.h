// random: a backend drawn with probability proportional to its weight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balance/strategy.h"

namespace fulcrum::balance {

/// Draws a backend with probability weight / (sum of the weights of the backends not excluded),
/// using PickContext::random, so a seeded generator gives a reproducible sequence. Weight 0 means
/// drained: never picked. Holds no per-pick state; owned by one worker thread like every strategy.
class WeightedRandom final : public Strategy {
 public:
  /// Copies the weights; keys are not used.
  explicit WeightedRandom(std::span<const Candidate> candidates);

  /// Requires context.random (asserted in debug builds; a release build falls back to a
  /// generator of its own rather than crash the data path). O(log n) when nothing is excluded,
  /// O(n) otherwise. Draws exactly one number from the generator per successful pick.
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  std::vector<std::uint64_t> weights_;
  // cumulative_[i] = weights_[0] + ... + weights_[i], for the binary search of the common case.
  std::vector<std::uint64_t> cumulative_;
  Random fallback_random_{0x6675'6c63'7275'6dULL};
};

}  // namespace fulcrum::balance
