#include "events/recent_events.h"

#include <algorithm>

#include "events/event_time.h"

namespace fulcrum::events {

RecentEvents::RecentEvents(std::size_t capacity) : ring_(std::max<std::size_t>(1, capacity)) {}

bool RecentEvents::keeps(Event kind) { return !is_per_request(kind) && kind != Event::Monitoring; }

void RecentEvents::push(const EventData& event) {
  if (!keeps(event.event)) return;
  if (size_ < ring_.size()) {
    ring_[(first_ + size_) % ring_.size()] = event;
    ++size_;
    return;
  }
  // Full: the oldest slot takes the new event and the ring starts one later.
  ring_[first_] = event;
  first_ = (first_ + 1) % ring_.size();
  ++forgotten_;
}

}  // namespace fulcrum::events
