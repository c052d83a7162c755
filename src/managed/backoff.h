// When a managed instance that exited is started again: a delay that doubles from the restart
// config's lower bound to its cap, with jitter, and whether the instance counts as crash-looping.
// Pure: the caller passes the randomness, so tests assert exact delays.
#pragma once

#include <cstdint>

#include "fulcrum/config.h"

namespace fulcrum::managed {

/// The delay before restart number `failures` (1 for the first exit since the instance last ran
/// well): backoff_min × 2^(failures-1), at most backoff_max, then less up to a quarter at random
/// (`jitter` in [0, 1): 0 keeps the delay, 0.99 takes nearly a quarter off) so that instances that
/// failed together do not restart together. Never below backoff_min.
Duration restart_delay(const ManagedRestartConfig& restart, std::uint32_t failures, double jitter);

/// Whether `failures` exits in a row have taken the backoff to its cap: the instance is then shown
/// as `crashloop`, and retried at the cap for as long as it keeps failing.
bool crash_looping(const ManagedRestartConfig& restart, std::uint32_t failures);

}  // namespace fulcrum::managed
