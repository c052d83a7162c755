// Rate limiting of repeated messages (log lines, `error` events): each distinct message may pass
// `per_second` times a second on average, `burst` times at once; the rest are counted and
// reported later as one summary ("N similar lines suppressed"). Keeps a flood of identical
// failures (a descriptor shortage, a garbage-spewing client) from flooding stderr or the event log.
//
// Thread-safe and cheap: a fixed table of slots indexed by a hash of the message, each with its own
// short lock held for a few arithmetic operations; no allocation. Two messages whose hashes share a
// slot take turns owning it (the one evicted reports what it suppressed). Time is passed in, so
// tests drive it without sleeping.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace fulcrum::core {

class RateLimiter {
 public:
  /// What was suppressed of one message since its last report.
  struct Suppressed {
    std::string message;
    std::uint64_t count = 0;
  };
  /// The verdict on one occurrence.
  struct Verdict {
    bool pass = false;
    /// Occurrences of this message (or of the one whose slot it took) suppressed since the last
    /// report: the caller reports them before its own line. Empty when count is 0.
    Suppressed suppressed;
  };

  explicit RateLimiter(double per_second = 10, double burst = 20) : per_second_(per_second), burst_(burst) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  /// Decides whether this occurrence of `message` passes at `now`. Any thread.
  Verdict admit(std::string_view message, TimePoint now);
  /// Calls `report` for every message that suppressed occurrences and has been quiet for a second
  /// (its flood ended): the "when the window ends" summary. Any thread; call about once a second.
  void flush(TimePoint now, const std::function<void(const Suppressed&)>& report);

 private:
  static constexpr std::size_t kSlots = 64;
  static constexpr std::size_t kMessageBytes = 80;  // messages are short literals; longer are cut

  struct Slot {
    std::atomic_flag busy = ATOMIC_FLAG_INIT;
    std::uint64_t hash = 0;  // 0: free
    double tokens = 0;
    TimePoint refilled{};
    TimePoint last_suppressed{};
    std::uint64_t suppressed = 0;
    std::size_t length = 0;
    char message[kMessageBytes];
  };
  class SlotLock;

  const double per_second_;
  const double burst_;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace fulcrum::core
