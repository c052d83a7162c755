#include <array>

#include "balance/strategy.h"

namespace fulcrum::balance {

std::span<const std::string_view> strategy_names() {
  static constexpr std::array<std::string_view, 5> names = {
      "round_robin", "weighted", "random", "least_connections", "source_hash"};
  return names;
}

}  // namespace fulcrum::balance
