#include "upstream/pool_manager.h"

#include <algorithm>

namespace fulcrum::upstream {

PoolManager::PoolManager(const std::vector<std::unique_ptr<Pool>>& pools) {
  for (const auto& pool : pools) states_.push_back(std::make_unique<PoolState>(*pool));
}

std::shared_ptr<Backend> PoolManager::make_backend(std::string address_text, const net::Address& address,
                                                   std::uint32_t weight) {
  return std::make_shared<Backend>(next_backend_id_++, std::move(address_text), address, weight);
}

void PoolManager::set_members(std::size_t index, PoolConfig config, std::vector<std::shared_ptr<Backend>> backends) {
  PoolState& state = *states_[index];
  state.config = std::move(config);
  state.backends = std::move(backends);
  // Forget the verdicts of backends that left: an id is never reused, but the map must not grow
  // with every backend that ever passed through the pool.
  std::erase_if(state.verdicts, [&](const auto& entry) {
    return std::none_of(state.backends.begin(), state.backends.end(),
                        [&](const auto& backend) { return backend->id() == entry.first; });
  });
  ++state.membership_version;
  publish(state, /*membership_changed=*/true);
}

void PoolManager::set_health(std::size_t index, const std::vector<HealthVerdict>& verdicts) {
  PoolState& state = *states_[index];
  state.verdicts.clear();
  for (const HealthVerdict& verdict : verdicts) state.verdicts[verdict.backend_id] = verdict;
  publish(state, /*membership_changed=*/false);
}

void PoolManager::publish(PoolState& state, bool membership_changed) {
  const std::size_t count = state.backends.size();
  std::vector<std::uint8_t> down_reasons(count, 0);
  std::vector<std::uint32_t> effective_weights(count, 0);
  bool any_down = false, any_up = false, every_weight_ramped = count > 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto found = state.verdicts.find(state.backends[i]->id());
    if (found != state.verdicts.end()) {
      down_reasons[i] = found->second.down_reasons;
      effective_weights[i] = found->second.effective_weight;
    }
    any_down = any_down || down_reasons[i] != 0;
    any_up = any_up || down_reasons[i] == 0;
    // Slow-start weights are on a scale of their own: they apply only when the monitor gave one
    // for every member (a backend that just joined has none until the monitor's next look).
    every_weight_ramped = every_weight_ramped && effective_weights[i] != 0;
  }
  if (!any_down) down_reasons.clear();
  if (!every_weight_ramped) effective_weights.clear();
  const bool panic = count > 0 && !any_up;

  const PoolSnapshot* current = state.published.get();
  if (!membership_changed && current && current->down_reasons == down_reasons &&
      current->effective_weights == effective_weights && current->panic == panic) {
    return;  // nothing the workers see would change: no rebuild of their strategies
  }
  auto next = std::make_shared<PoolSnapshot>();
  next->name = state.pool.name();
  next->strategy = state.config.strategy;
  next->connect_timeout = state.config.connect_timeout;
  next->deactivate_for = state.config.deactivate_for;
  const auto members = static_cast<std::uint32_t>(count);
  next->max_attempts = 1 + state.config.retries.value_or(members > 0 ? members - 1 : 0);
  next->backends = state.backends;
  next->down_reasons = std::move(down_reasons);
  next->effective_weights = std::move(effective_weights);
  next->panic = panic;
  next->config = state.config;
  state.published = next;
  state.pool.publish(std::move(next));
}

}  // namespace fulcrum::upstream
