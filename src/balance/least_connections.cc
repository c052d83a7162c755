#include "balance/least_connections.h"

#include <cassert>

namespace fulcrum::balance {

LeastConnections::LeastConnections(std::span<const Candidate> candidates) : weights_(candidates.size()) {
  for (std::size_t i = 0; i < candidates.size(); ++i) weights_[i] = candidates[i].weight;
}

std::optional<std::size_t> LeastConnections::pick(const PickContext& context, const BackendSet& excluded) {
  assert(context.load != nullptr && "the least_connections strategy needs PickContext::load");
  const std::size_t count = weights_.size();
  std::optional<std::size_t> best;
  std::int64_t best_load = 0;
  for (std::size_t step = 0; step < count; ++step) {
    const std::size_t index = (start_ + step) % count;
    if (weights_[index] == 0 || excluded.contains(index)) continue;
    std::int64_t load = context.load != nullptr ? context.load->load(index) : 0;
    if (load < 0) load = 0;  // a counter caught mid-update must not look better than idle
    // load/weight < best_load/best_weight without division; 128 bits because load * weight can
    // exceed 64 bits for large weights (up to 10^6) and absurd loads.
    if (!best || static_cast<__int128>(load) * weights_[*best] <
                     static_cast<__int128>(best_load) * weights_[index]) {
      best = index;
      best_load = load;
    }
  }
  if (best) start_ = (*best + 1) % count;
  return best;
}

}  // namespace fulcrum::balance
