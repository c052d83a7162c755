#include "balance/weighted_round_robin.h"

namespace fulcrum::balance {

WeightedRoundRobin::WeightedRoundRobin(std::span<const Candidate> candidates)
    : weights_(candidates.size()), current_(candidates.size(), 0) {
  for (std::size_t i = 0; i < candidates.size(); ++i) weights_[i] = candidates[i].weight;
}

std::optional<std::size_t> WeightedRoundRobin::pick(const PickContext& /*context*/,
                                                    const BackendSet& excluded) {
  // int64 holds any current value: |current| stays below the total weight, at most
  // 2^32 per backend times the number of backends.
  std::int64_t total = 0;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] == 0 || excluded.contains(i)) continue;
    current_[i] += weights_[i];
    total += weights_[i];
    if (!best || current_[i] > current_[*best]) best = i;
  }
  if (best) current_[*best] -= total;
  return best;
}

}  // namespace fulcrum::balance
