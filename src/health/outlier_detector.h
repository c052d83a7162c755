// Passive health (Envoy's outlier detection, consecutive-failures flavour): pure, time passed in.
//
// The data path counts each backend's failures in a row (connect errors, resets, 5xx when
// `count_5xx`) in atomics on upstream::Backend; the control thread reads them every tick and feeds
// them here. A backend whose count reaches `consecutive_failures` is ejected for
// base_ejection × n, n being its number of ejections so far this one included, at most
// max_ejection. The count n decays: each full `max_ejection` a backend spends back in the pool
// forgives one ejection, so a backend that misbehaved once long ago starts short again.
//
// Never more than `max_ejection_percent` of the pool is ejected at once, counted strictly:
// (ejected + 1) × 100 ≤ max_ejection_percent × backends. So a pool of one backend is never
// ejected, a pool of two at 50% loses at most one, and a pool of three at 50% at most one.
//
// Backends are indices 0..size-1 of the pool snapshot the detector was built for; a change of
// membership builds a new detector. Owned by the control thread; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/clock.h"
#include "fulcrum/config.h"

namespace fulcrum::health {

class OutlierDetector {
 public:
  OutlierDetector(const OutlierDetectionConfig& config, std::size_t backends);

  /// Feeds backend `index`'s failures in a row as counted now. Returns true when this ejects it
  /// (the caller then resets the data path's count); false when it stays: below the threshold,
  /// already ejected, or the pool's ejection budget is spent.
  bool observe(std::size_t index, std::uint64_t consecutive_failures, core::TimePoint now);

  /// Ends the ejections that are over at `now`; returns the indices released.
  std::vector<std::size_t> release_expired(core::TimePoint now);

  bool ejected(std::size_t index) const { return entries_[index].ejected; }
  /// When the current ejection of `index` ends (meaningful while ejected()).
  core::TimePoint ejected_until(std::size_t index) const { return entries_[index].until; }
  /// Ejections counted for `index` (after decay), the multiplier of its last ejection.
  std::uint32_t ejections(std::size_t index) const { return entries_[index].ejections; }
  /// Backends ejected right now.
  std::size_t ejected_count() const { return ejected_count_; }
  /// Whether one more backend may be ejected under max_ejection_percent.
  bool budget_left() const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    bool ejected = false;
    std::uint32_t ejections = 0;
    core::TimePoint until{};
    core::TimePoint released{};  // end of the last ejection
  };

  OutlierDetectionConfig config_;
  std::vector<Entry> entries_;
  std::size_t ejected_count_ = 0;
};

}  // namespace fulcrum::health
