#include "upstream/pool.h"

namespace fulcrum::upstream {

Pool::Pool(std::string name) : name_(std::move(name)) {}

void Pool::publish(std::shared_ptr<const PoolSnapshot> snapshot) {
  snapshot_.store(std::move(snapshot));
  version_.fetch_add(1, std::memory_order_release);
}

}  // namespace fulcrum::upstream
