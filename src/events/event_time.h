// Helpers shared by the bus, the event log and the access log.
#pragma once

#include <chrono>
#include <cstddef>
#include <ctime>
#include <string>

#include "fulcrum/events.h"

namespace fulcrum::events {

/// How many Event values there are (for per-event tables).
inline constexpr std::size_t kEventCount = static_cast<std::size_t>(Event::ClusterConnected) + 1;

/// `2026-06-16T07:06:59.969Z`: ISO-8601, UTC, milliseconds.
std::string format_time(std::chrono::system_clock::time_point time);

/// Request, Response and SelectingServer: the events emitted per request, which are sampled and
/// kept out of the event log unless `per_request: true`.
bool is_per_request(Event event);

}  // namespace fulcrum::events
