// The last events, kept so that a dashboard opened after a failure still shows it: a bounded ring
// of the most recent events of every kind but the per-request ones (sampled, numerous, and of no
// use an hour later) and `monitoring` (every health interval per pool: it would push a failure out
// of the ring within minutes, and says what /api/pools says now). A stream client asks for those
// live.
//
// Owned by the admin server and fed by its bus subscription on the control thread; read there too
// (GET /api/events/recent, the replay to a new stream client). Not thread-safe: one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/events.h"

namespace fulcrum::events {

class RecentEvents {
 public:
  static constexpr std::size_t kDefaultCapacity = 200;

  explicit RecentEvents(std::size_t capacity = kDefaultCapacity);

  /// Whether the ring keeps events of this kind (see above).
  static bool keeps(Event kind);

  /// Keeps `event`, forgetting the oldest when full. Kinds it does not keep are ignored.
  void push(const EventData& event);

  /// Oldest first. `kinds`: a per-Event mask (Event's value as the index); null for every kind.
  template <typename Visit>
  void for_each(const bool* kinds, std::size_t kinds_size, Visit&& visit) const {
    for (std::size_t i = 0; i < size_; ++i) {
      const EventData& event = ring_[(first_ + i) % ring_.size()];
      const auto index = static_cast<std::size_t>(event.event);
      if (kinds != nullptr && (index >= kinds_size || !kinds[index])) continue;
      visit(event);
    }
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ring_.size(); }
  /// Events pushed out of the ring since the start, so a reader can tell whether it saw them all.
  std::uint64_t forgotten() const { return forgotten_; }

 private:
  std::vector<EventData> ring_;
  std::size_t first_ = 0;
  std::size_t size_ = 0;
  std::uint64_t forgotten_ = 0;
};

}  // namespace fulcrum::events
