#include "balance/least_load.h"

#include <algorithm>
#include <cassert>

namespace fulcrum::balance {

LeastLoad::LeastLoad(std::span<const Candidate> candidates) : weights_(candidates.size()) {
  for (std::size_t i = 0; i < candidates.size(); ++i) weights_[i] = candidates[i].weight;
}

std::optional<std::size_t> LeastLoad::pick(const PickContext& context, const BackendSet& excluded) {
  assert(context.reported != nullptr && "the least_load strategy needs PickContext::reported");
  const std::size_t count = weights_.size();
  std::optional<std::size_t> best;
  std::int64_t best_load = 0;
  for (std::size_t step = 0; step < count; ++step) {
    const std::size_t index = (start_ + step) % count;
    if (weights_[index] == 0 || excluded.contains(index)) continue;
    std::int64_t load = context.reported != nullptr ? context.reported->reported_load(index) : -1;
    load = load < 0 ? kUnreportedLoad : std::min<std::int64_t>(load, 1000);
    // load/weight < best_load/best_weight without division (both factors fit in 64 bits).
    if (!best || load * weights_[*best] < best_load * weights_[index]) {
      best = index;
      best_load = load;
    }
  }
  if (best) start_ = (*best + 1) % count;
  return best;
}

}  // namespace fulcrum::balance
