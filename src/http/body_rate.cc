#include "http/body_rate.h"

namespace fulcrum::http {

void BodyRateGuard::reset() {
  started_ = paused_ = false;
  bytes_ = 0;
}

void BodyRateGuard::received(std::uint64_t bytes, core::TimePoint now) {
  if (bytes == 0) return;
  if (!started_) {
    started_ = true;
    start_ = now;
    if (paused_) paused_at_ = now;
  }
  bytes_ += bytes;
}

void BodyRateGuard::pause(core::TimePoint now) {
  if (paused_) return;
  paused_ = true;
  paused_at_ = now;
}

void BodyRateGuard::resume(core::TimePoint now) {
  if (!paused_) return;
  paused_ = false;
  if (started_ && now > paused_at_) start_ += now - paused_at_;
}

std::optional<core::TimePoint> BodyRateGuard::deadline() const {
  if (min_rate_ == 0 || !started_ || paused_) return std::nullopt;
  // bytes / rate seconds, split so that no product overflows (bytes reach 2^50, rates 2^30).
  const std::uint64_t whole = bytes_ / min_rate_;
  const std::uint64_t rest_ns = (bytes_ % min_rate_) * 1'000'000'000 / min_rate_;
  constexpr std::uint64_t kMaxSeconds = std::uint64_t{1} << 32;  // beyond any connection's life
  const auto earned = std::chrono::seconds(static_cast<std::int64_t>(whole < kMaxSeconds ? whole : kMaxSeconds)) +
                      std::chrono::nanoseconds(static_cast<std::int64_t>(rest_ns));
  return start_ + grace_ + std::chrono::duration_cast<core::TimePoint::duration>(earned);
}

}  // namespace fulcrum::http
