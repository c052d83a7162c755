#include "upstream/pool.h"

namespace fulcrum::upstream {

Pool::Pool(std::string name, std::shared_ptr<balance::StickyTable> sticky)
    : name_(std::move(name)), sticky_(std::move(sticky)) {}

void Pool::publish(std::shared_ptr<const PoolSnapshot> snapshot) {
  snapshot_.store(std::move(snapshot));
  version_.fetch_add(1, std::memory_order_release);
}

}  // namespace fulcrum::upstream
