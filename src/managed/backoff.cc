#include "managed/backoff.h"

#include <algorithm>

namespace fulcrum::managed {
namespace {

/// backoff_min doubled `failures - 1` times, stopping at the cap (no overflow however many).
Duration capped(const ManagedRestartConfig& restart, std::uint32_t failures) {
  Duration delay = restart.backoff_min;
  for (std::uint32_t i = 1; i < failures && delay < restart.backoff_max; ++i) delay *= 2;
  return std::min(delay, restart.backoff_max);
}

}  // namespace

Duration restart_delay(const ManagedRestartConfig& restart, std::uint32_t failures, double jitter) {
  const Duration delay = capped(restart, std::max<std::uint32_t>(failures, 1));
  const double share = std::clamp(jitter, 0.0, 0.999) / 4.0;
  const auto off = Duration(static_cast<Duration::rep>(static_cast<double>(delay.count()) * share));
  return std::max(delay - off, restart.backoff_min);
}

bool crash_looping(const ManagedRestartConfig& restart, std::uint32_t failures) {
  return failures > 1 && capped(restart, failures) >= restart.backoff_max;
}

}  // namespace fulcrum::managed
