// least_latency: of two backends drawn at random, the one expected to answer first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balance/random.h"
#include "balance/strategy.h"

namespace fulcrum::balance {

/// Power of two choices over a latency cost (Finagle's and Linkerd's P2C + peak EWMA).
///
/// Each pick draws two distinct eligible backends (not excluded, weight > 0) uniformly with
/// PickContext::random and takes the cheaper, where
///     cost = latency(now) * (in-flight + 1) / weight,
/// latency from PickContext::latency (a peak EWMA of time to first byte, see latency_tracker.h)
/// and in-flight from PickContext::load. Two random choices rather than the global minimum
/// because every worker picks from the same slightly stale figures: the minimum would send every
/// worker's next requests to one backend at once (herding), while two random choices spread them
/// and still avoid the worst backends almost always.
///
/// A latency of 0 means "unknown" (a new backend, or one whose estimate decayed away). When
/// either of the two has an unknown latency, both are compared by (in-flight + 1) / weight alone,
/// as if equally fast. So a new backend is tried as soon as it is drawn with fewer requests in
/// flight than its rival, yet receives no more than its rival's in-flight count before its first
/// response tells how fast it is (a cost of 0 would instead send it every pick it is drawn in
/// until then). Ties go to the first drawn, which is random.
///
/// A backend that was slow once is tried again: its estimate decays toward 0 while it gets no
/// traffic (see LatencyTracker), so its cost eventually falls below a busy rival's.
///
/// With one eligible backend it is picked; with none, nullopt. Holds no per-pick state; owned by
/// one worker thread like every strategy.
class LeastLatency final : public Strategy {
 public:
  /// Copies the weights; keys are not used.
  explicit LeastLatency(std::span<const Candidate> candidates);

  /// Requires context.random (asserted in debug builds; a release build falls back to a
  /// generator of its own). A null context.latency makes every latency unknown, a null
  /// context.load every in-flight count 0. Draws two numbers from the generator when at least two
  /// backends are eligible, none otherwise. O(1) when nothing is excluded and no weight is 0,
  /// O(n) otherwise; two latency() and two load() calls.
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  // The index of the `rank`-th eligible backend (0-based).
  std::size_t nth_eligible(std::size_t rank, const BackendSet& excluded) const;
  // True when `first` is strictly cheaper than `second` (see the class comment).
  bool cheaper(std::size_t first, std::size_t second, const PickContext& context) const;

  std::vector<std::uint32_t> weights_;
  std::size_t positive_weights_ = 0;  // backends with weight > 0
  Random fallback_random_{0x4c6174656e6379ULL};
};

}  // namespace fulcrum::balance
