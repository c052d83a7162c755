// Polling for a condition that becomes true asynchronously (a health state, a counter), with a
// bound: a test waits for the system, never for a fixed sleep.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace fulcrum::test {

/// Calls `condition` every 20 ms until it returns true or `timeout` passes; returns its last answer.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace fulcrum::test
