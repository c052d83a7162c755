#include "health/outlier_detector.h"

#include <algorithm>

namespace fulcrum::health {

OutlierDetector::OutlierDetector(const OutlierDetectionConfig& config, std::size_t backends)
    : config_(config), entries_(backends) {}

bool OutlierDetector::budget_left() const {
  return (ejected_count_ + 1) * 100 <= std::size_t{config_.max_ejection_percent} * entries_.size();
}

bool OutlierDetector::observe(std::size_t index, std::uint64_t consecutive_failures, core::TimePoint now) {
  if (index >= entries_.size()) return false;
  Entry& entry = entries_[index];
  const std::uint64_t threshold = std::max<std::uint32_t>(config_.consecutive_failures, 1);
  if (entry.ejected || consecutive_failures < threshold || !budget_left()) return false;

  if (entry.ejections > 0 && config_.max_ejection.count() > 0 && entry.released.time_since_epoch().count() != 0) {
    const auto forgiven = static_cast<std::uint64_t>((now - entry.released) / config_.max_ejection);
    entry.ejections -= static_cast<std::uint32_t>(std::min<std::uint64_t>(forgiven, entry.ejections));
  }
  ++entry.ejections;
  auto duration = config_.base_ejection * entry.ejections;
  if (duration > config_.max_ejection || duration < config_.base_ejection) duration = config_.max_ejection;
  entry.ejected = true;
  entry.until = now + duration;
  ++ejected_count_;
  return true;
}

std::vector<std::size_t> OutlierDetector::release_expired(core::TimePoint now) {
  std::vector<std::size_t> released;
  if (ejected_count_ == 0) return released;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry& entry = entries_[i];
    if (entry.ejected && now >= entry.until) {
      entry.ejected = false;
      entry.released = now;
      --ejected_count_;
      released.push_back(i);
    }
  }
  return released;
}

}  // namespace fulcrum::health
