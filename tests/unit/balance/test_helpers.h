// Helpers shared by the balance tests: building candidates, collecting pick sequences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "balance/backend_set.h"
#include "balance/strategy.h"

namespace fulcrum::balance::testing {

/// Owns the key strings that Candidate views.
struct Pool {
  std::vector<std::string> keys;
  std::vector<Candidate> candidates;

  /// Backends named "10.0.0.<i+1>:80" with the given weights.
  static Pool with_weights(const std::vector<std::uint32_t>& weights) {
    Pool pool;
    for (std::size_t i = 0; i < weights.size(); ++i) pool.keys.push_back("10.0.0." + std::to_string(i + 1) + ":80");
    for (std::size_t i = 0; i < weights.size(); ++i) pool.candidates.push_back({pool.keys[i], weights[i]});
    return pool;
  }
  Pool() = default;
  Pool(const Pool&) = delete;  // candidates view keys: a copy would dangle
  Pool(Pool&&) = default;      // moving a vector keeps its strings where they are
};

/// `count` picks as letters ('a' for index 0), '-' for nullopt.
inline std::string pick_letters(Strategy& strategy, std::size_t count, const BackendSet& excluded,
                                const PickContext& context = {}) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto picked = strategy.pick(context, excluded);
    out += picked ? static_cast<char>('a' + *picked) : '-';
  }
  return out;
}

/// A LoadView over a vector the test changes between picks.
class VectorLoad final : public LoadView {
 public:
  explicit VectorLoad(std::vector<std::int64_t> loads) : loads(std::move(loads)) {}
  std::int64_t load(std::size_t backend) const override { return loads.at(backend); }
  std::vector<std::int64_t> loads;
};

/// A ReportedLoadView over a vector (thousandths; negative: not reported).
class VectorReportedLoad final : public ReportedLoadView {
 public:
  explicit VectorReportedLoad(std::vector<std::int32_t> loads) : loads(std::move(loads)) {}
  std::int32_t reported_load(std::size_t backend) const override { return loads.at(backend); }
  std::vector<std::int32_t> loads;
};

}  // namespace fulcrum::balance::testing
