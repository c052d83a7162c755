// Lookups on the configuration model.
#include "fulcrum/config.h"

namespace fulcrum {

const PoolConfig* Config::find_pool(std::string_view name) const {
  // Linear: a configuration holds a handful of pools and this runs at start and reload only.
  for (const PoolConfig& pool : pools) {
    if (pool.name == name) return &pool;
  }
  return nullptr;
}

}  // namespace fulcrum
