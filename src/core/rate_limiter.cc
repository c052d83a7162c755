#include "core/rate_limiter.h"

#include <algorithm>
#include <cstring>
#include <thread>

namespace fulcrum::core {

namespace {
constexpr auto kQuiet = std::chrono::seconds(1);  // a flood is over after a second without one

std::uint64_t hash_of(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h | 1;  // never 0, which marks a free slot
}
}  // namespace

/// Holds a slot for a few instructions; the spin is bounded by what another thread does inside.
class RateLimiter::SlotLock {
 public:
  explicit SlotLock(Slot& slot) : slot_(slot) {
    while (slot_.busy.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
  }
  ~SlotLock() { slot_.busy.clear(std::memory_order_release); }

 private:
  Slot& slot_;
};

RateLimiter::Verdict RateLimiter::admit(std::string_view message, TimePoint now) {
  const std::uint64_t hash = hash_of(message);
  Slot& slot = slots_[hash % kSlots];
  Verdict verdict;
  SlotLock lock(slot);
  if (slot.hash != hash) {
    // A new message (or another one whose hash shares the slot): take the slot over, handing what
    // the previous owner suppressed to the caller to report.
    if (slot.suppressed > 0) verdict.suppressed = {std::string(slot.message, slot.length), slot.suppressed};
    slot.hash = hash;
    slot.tokens = burst_;
    slot.refilled = now;
    slot.suppressed = 0;
    slot.length = std::min(message.size(), kMessageBytes);
    std::memcpy(slot.message, message.data(), slot.length);
  }
  const double elapsed = std::chrono::duration<double>(now - slot.refilled).count();
  if (elapsed > 0) {
    slot.tokens = std::min(burst_, slot.tokens + elapsed * per_second_);
    slot.refilled = now;
  }
  if (slot.tokens < 1) {
    ++slot.suppressed;
    slot.last_suppressed = now;
    return verdict;
  }
  slot.tokens -= 1;
  verdict.pass = true;
  if (slot.suppressed > 0 && verdict.suppressed.count == 0) {
    verdict.suppressed = {std::string(slot.message, slot.length), slot.suppressed};
    slot.suppressed = 0;
  }
  return verdict;
}

void RateLimiter::flush(TimePoint now, const std::function<void(const Suppressed&)>& report) {
  for (Slot& slot : slots_) {
    Suppressed ended;
    {
      SlotLock lock(slot);
      if (slot.suppressed == 0 || now - slot.last_suppressed < kQuiet) continue;
      ended = {std::string(slot.message, slot.length), slot.suppressed};
      slot.suppressed = 0;
    }
    report(ended);  // outside the lock: reporting may log, which admits
  }
}

}  // namespace fulcrum::core
