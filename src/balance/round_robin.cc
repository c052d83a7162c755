#include "balance/round_robin.h"

namespace fulcrum::balance {

RoundRobin::RoundRobin(std::size_t backend_count) : backend_count_(backend_count) {}

std::optional<std::size_t> RoundRobin::pick(const PickContext& /*context*/, const BackendSet& excluded) {
  for (std::size_t step = 0; step < backend_count_; ++step) {
    const std::size_t index = (cursor_ + step) % backend_count_;
    if (excluded.contains(index)) continue;
    // Moving the cursor past the chosen backend (not just one step) keeps the cycle fair when a
    // failover skipped some: the next connection does not land on a backend we just passed over.
    cursor_ = (index + 1) % backend_count_;
    return index;
  }
  return std::nullopt;
}

}  // namespace fulcrum::balance
