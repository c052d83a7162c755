// The one clock of the data path: monotonic, read once per event-loop turn.
#pragma once

#include <chrono>

namespace fulcrum::core {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Milliseconds = std::chrono::milliseconds;

}  // namespace fulcrum::core
