#include "balance/weighted_random.h"

#include <algorithm>
#include <cassert>

namespace fulcrum::balance {

WeightedRandom::WeightedRandom(std::span<const Candidate> candidates)
    : weights_(candidates.size()), cumulative_(candidates.size()) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    weights_[i] = candidates[i].weight;
    sum += weights_[i];
    cumulative_[i] = sum;
  }
}

std::optional<std::size_t> WeightedRandom::pick(const PickContext& context, const BackendSet& excluded) {
  assert(context.random != nullptr && "the random strategy needs PickContext::random");
  Random& random = context.random != nullptr ? *context.random : fallback_random_;

  if (excluded.count() == 0) {
    if (cumulative_.empty() || cumulative_.back() == 0) return std::nullopt;
    const std::uint64_t draw = random.below(cumulative_.back());
    // The first backend whose cumulative weight exceeds the draw; weight-0 backends have the same
    // cumulative value as their predecessor, so upper_bound never lands on them.
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), draw);
    return static_cast<std::size_t>(it - cumulative_.begin());
  }

  // With exclusions (failover, deactivated backends) the draw is among the remaining weight only,
  // so the others keep their relative shares.
  std::uint64_t remaining = 0;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (!excluded.contains(i)) remaining += weights_[i];
  }
  if (remaining == 0) return std::nullopt;
  std::uint64_t draw = random.below(remaining);
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (excluded.contains(i)) continue;
    if (draw < weights_[i]) return i;
    draw -= weights_[i];
  }
  return std::nullopt;  // unreachable: draw < remaining
}

}  // namespace fulcrum::balance
