// What the control thread's components (admin API, metrics) see of reloads: the counters, the
// generation, and the way to ask for one. Owned by the balancer; outlives the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "fulcrum/balancer.h"

namespace fulcrum::runtime {

struct ReloadState {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
  /// 1 from start, +1 per successful reload.
  std::atomic<std::uint64_t> generation{1};
  /// Unix time (seconds) of the last reload attempt, 0 before the first.
  std::atomic<double> last_reload_unix{0};
  std::atomic<bool> last_reload_ok{true};
  /// Reads the configuration file again and applies it; runs on the control thread (set by the
  /// balancer at start).
  std::function<ReloadResult()> reload_file;
};

}  // namespace fulcrum::runtime
