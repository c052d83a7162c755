#include <array>

#include "balance/strategy.h"

namespace fulcrum::balance {

std::span<const std::string_view> strategy_names() {
  // least_latency and hash choose by what only HTTP has; config/validate.cc refuses them for
  // pools that serve a tcp listener.
  static constexpr std::array<std::string_view, 8> names = {
      "round_robin", "weighted", "random", "least_connections", "source_hash", "least_latency",
      "hash", "least_load"};
  return names;
}

}  // namespace fulcrum::balance
