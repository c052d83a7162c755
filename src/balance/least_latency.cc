#include "balance/least_latency.h"

#include <cassert>

namespace fulcrum::balance {

LeastLatency::LeastLatency(std::span<const Candidate> candidates) : weights_(candidates.size()) {
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    weights_[i] = candidates[i].weight;
    if (weights_[i] > 0) ++positive_weights_;
  }
}

std::size_t LeastLatency::nth_eligible(std::size_t rank, const BackendSet& excluded) const {
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] == 0 || excluded.contains(i)) continue;
    if (rank == 0) return i;
    --rank;
  }
  assert(false && "rank beyond the eligible backends");
  return 0;
}

bool LeastLatency::cheaper(std::size_t first, std::size_t second, const PickContext& context) const {
  auto in_flight = [&](std::size_t index) {
    const std::int64_t load = context.load != nullptr ? context.load->load(index) : 0;
    return static_cast<double>(load < 0 ? 0 : load);  // a counter caught mid-update is not "better than idle"
  };
  auto latency = [&](std::size_t index) {
    const double value = context.latency != nullptr ? context.latency->latency(index, context.now) : 0.0;
    return value > 0 ? value : 0.0;  // also maps NaN to unknown
  };
  double latency_first = latency(first);
  double latency_second = latency(second);
  if (latency_first == 0.0 || latency_second == 0.0) latency_first = latency_second = 1.0;
  // cost_first < cost_second, multiplied out by both weights to avoid two divisions. Doubles: the
  // products (up to ~1e10 ns * 1e6 requests * 1e6 weight) stay far inside their range, and a
  // rounding difference only matters between near-equal costs.
  return latency_first * (in_flight(first) + 1) * weights_[second] <
         latency_second * (in_flight(second) + 1) * weights_[first];
}

std::optional<std::size_t> LeastLatency::pick(const PickContext& context, const BackendSet& excluded) {
  assert(context.random != nullptr && "the least_latency strategy needs PickContext::random");
  Random& random = context.random != nullptr ? *context.random : fallback_random_;

  const bool all_eligible = excluded.count() == 0 && positive_weights_ == weights_.size();
  std::size_t eligible = positive_weights_;
  if (!all_eligible) {
    eligible = 0;
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      if (weights_[i] > 0 && !excluded.contains(i)) ++eligible;
    }
  }
  if (eligible == 0) return std::nullopt;
  if (eligible == 1) return nth_eligible(0, excluded);

  // Two distinct ranks: the second is drawn among the eligible - 1 others and shifted past the first.
  const std::size_t first_rank = static_cast<std::size_t>(random.below(eligible));
  std::size_t second_rank = static_cast<std::size_t>(random.below(eligible - 1));
  if (second_rank >= first_rank) ++second_rank;
  const std::size_t first = all_eligible ? first_rank : nth_eligible(first_rank, excluded);
  const std::size_t second = all_eligible ? second_rank : nth_eligible(second_rank, excluded);
  return cheaper(second, first, context) ? second : first;
}

}  // namespace fulcrum::balance
