// The numeric bounds of the configuration, kept in one place. The validator enforces them on
// the model; the YAML reader uses them only to word its error the same way when a written
// number does not even fit the field's type (`weight: -1`, `drain_timeout: 999999999999999d`),
// so either path prints the same `must be between 1 and 1000000` message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "config/duration.h"
#include "config/size.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// An inclusive range of whole numbers.
struct Range {
  std::int64_t min = 0;
  std::int64_t max = 0;

  bool contains(std::int64_t value) const { return value >= min && value <= max; }
};

/// Every unsigned 32-bit value: fields with no bound of their own beyond their type.
inline constexpr Range kAnyCount{0, std::numeric_limits<std::uint32_t>::max()};
/// `workers`: 0 means one per CPU; more than 1024 is a typo, not a machine.
inline constexpr Range kWorkersRange{0, 1024};
/// `backends[].weight`: 0 would never be picked (leave the backend out instead); the upper bound
/// keeps weight sums of large pools far from overflow in the weighted strategies.
inline constexpr Range kWeightRange{1, 1000000};
/// `listeners[].backlog`: the kernel caps it at net.core.somaxconn anyway; 0 would refuse
/// every connection not yet accepted.
inline constexpr Range kBacklogRange{1, 65535};
/// `listeners[].unavailable`: written with a single non-blocking send before the close, so it
/// must fit comfortably in a socket's send buffer.
inline constexpr std::size_t kMaxUnavailableBytes = 4096;

/// `pools.<name>.max_idle`: idle upstream connections kept per worker and backend; each holds a
/// socket, so a bound far above any sensible pool catches a typo before it exhausts descriptors.
inline constexpr Range kMaxIdleRange{0, 100000};
/// `max_connections` of a pool or backend: 0 is no limit; a million in flight to one backend is
/// past what one balancer process holds.
inline constexpr Range kBackendConnectionsRange{0, 1000000};
/// `pools.<name>.queue.size`: each waiting request holds its client connection and its buffers.
inline constexpr Range kQueueSizeRange{0, 1000000};
/// `listeners[].max_headers`: fields per request head; the parser allocates a table this large
/// per connection.
inline constexpr Range kMaxHeadersRange{1, 1000};

/// `listeners[].max_header_size`, in bytes: below 1 KiB ordinary browsers' requests fail; above
/// 1 MiB one slow client pins a megabyte buffer per connection.
inline constexpr Range kMaxHeaderSizeRange{1 << 10, 1 << 20};
/// `listeners[].max_body`, in bytes: 0 means unlimited; the bound (1 PiB) keeps body counters
/// far from overflow.
inline constexpr Range kMaxBodyRange{0, std::int64_t{1} << 50};

/// `listeners[].body_min_rate`, in bytes per second: 0 turns it off; above 1 GiB/s no link keeps up.
inline constexpr Range kBodyMinRateRange{0, std::int64_t{1} << 30};
/// `admin.max_connections` / `max_stream_clients`: each holds a descriptor on the control thread.
inline constexpr Range kAdminConnectionsRange{1, 100000};

/// `listeners[].limits.table_size`: clients remembered per listener (about 150 bytes each); the
/// table is split into 64 shards that each need room for one client, and ten million clients
/// (1.5 GB) is past what one process should hold.
inline constexpr Range kClientTableSizeRange{64, 10000000};
/// `listeners[].limits.ipv6_prefix`: bits of an IPv6 address that name one client.
inline constexpr Range kIpv6PrefixRange{1, 128};
/// `listeners[].limits.requests_per_ip.rate` (the count) and `.burst`.
inline constexpr Range kRequestRateRange{1, 10000000};
inline constexpr Range kBurstRange{0, 10000000};

/// `pools.<name>.managed.instances` (and its min/max): each instance is a process and a port.
inline constexpr Range kManagedInstancesRange{1, 1000};
/// `pools.<name>.managed.ports`: TCP ports.
inline constexpr Range kPortRange{1, 65535};

/// `pools.<name>.health.rise` / `fall`: consecutive probe results that change a backend's state;
/// beyond 100 a backend would take hours of probes to change state.
inline constexpr Range kRiseFallRange{1, 100};
/// `pools.<name>.health.http.expect`: the status codes HTTP defines.
inline constexpr Range kStatusRange{100, 599};
/// `pools.<name>.outlier_detection.consecutive_failures`: 0 would eject on no failure at all.
inline constexpr Range kConsecutiveFailuresRange{1, 1000};
/// Every percentage (`outlier_detection.max_ejection_percent`).
inline constexpr Range kPercentRange{0, 100};

/// Every duration: a year is longer than any sensible timeout, and the bound guarantees that
/// `now + duration` never overflows a clock's 64-bit count.
inline constexpr Duration kMaxDuration{std::chrono::hours(24 * 365)};

/// `must be at most 365d (got 400d)`.
inline std::string too_long_message(std::string_view got) {
  return "must be at most " + format_duration(kMaxDuration) + " (got " + std::string(got) + ")";
}

/// `must be between 1k and 1m (got 2m)`: a range of byte sizes, written in the size syntax.
inline std::string size_out_of_range_message(Range range, std::string_view got) {
  return "must be between " + format_size(static_cast<std::uint64_t>(range.min)) + " and " +
         format_size(static_cast<std::uint64_t>(range.max)) + " (got " + std::string(got) + ")";
}

/// `must be between 1 and 1000000 (got 0)`.
inline std::string out_of_range_message(Range range, std::string_view got) {
  return "must be between " + std::to_string(range.min) + " and " + std::to_string(range.max) +
         " (got " + std::string(got) + ")";
}

}  // namespace fulcrum::config
