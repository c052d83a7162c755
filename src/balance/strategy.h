// The seam between a pool and the rule that chooses one of its backends.
//
// A strategy is pure: it sees backend weights and identities when it is built, and load, latency,
// randomness, the time and the hash key through the PickContext at each pick. It does no I/O,
// reads no clock and holds no locks, so tests assert exact sequences and distributions. A strategy object
// belongs to one worker thread (its state, e.g. the round-robin cursor, is not shared); workers
// rebuild theirs from each new pool snapshot.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "balance/backend_set.h"
#include "balance/random.h"

namespace fulcrum::balance {

/// Times are passed in by the caller (the worker's loop time, core::TimePoint); the balance code
/// never reads a clock. (sticky_table.h declares the same alias; redeclaring it is legal.)
using TimePoint = std::chrono::steady_clock::time_point;

/// What a strategy knows of a backend when it is built.
struct Candidate {
  /// Stable identity used by hashing strategies (the configured address text): every worker and
  /// every Fulcrum instance given the same candidates builds the same table.
  std::string_view key;
  std::uint32_t weight = 1;
};

/// Live load of each backend, read at pick time (active connections or in-flight requests,
/// counted across all workers).
class LoadView {
 public:
  virtual std::int64_t load(std::size_t backend) const = 0;

 protected:
  ~LoadView() = default;
};

/// Live response-time estimate of each backend, read at pick time (a LatencyTracker per backend,
/// updated by all workers; see latency_tracker.h).
class LatencyView {
 public:
  /// The backend's estimated time to first byte at `now`, in nanoseconds; 0 when nothing is known
  /// (no sample yet, or every sample has decayed away).
  virtual double latency(std::size_t backend, TimePoint now) const = 0;

 protected:
  ~LatencyView() = default;
};

/// The load each backend reported itself (registration renewals, `{"load": 0.0-1.0}`), read at
/// pick time.
class ReportedLoadView {
 public:
  /// In thousandths (0 idle .. 1000 saturated); negative when the backend never reported one.
  virtual std::int32_t reported_load(std::size_t backend) const = 0;

 protected:
  ~ReportedLoadView() = default;
};

/// Per-pick inputs. Fields are only ever added at the end, so positional initialisation by
/// existing callers keeps its meaning.
struct PickContext {
  /// Hash of the client key (client IP for source_hash; the request key for hash, see
  /// request_hash.h). Ignored by non-hashing strategies.
  std::uint64_t hash = 0;
  /// Required by least_connections; used by least_latency (in-flight requests); may be null for
  /// the others. In http pools the engine counts in-flight requests here, in tcp pools connections.
  const LoadView* load = nullptr;
  /// Required by random and least_latency; may be null for the others.
  Random* random = nullptr;
  /// Required by least_latency; may be null for the others.
  const LatencyView* latency = nullptr;
  /// The caller's current time (its loop time), passed to `latency`. Used by least_latency only.
  TimePoint now{};
  /// Required by least_load; may be null for the others.
  const ReportedLoadView* reported = nullptr;
};

/// Chooses a backend. See the file comment for the purity contract.
class Strategy {
 public:
  virtual ~Strategy() = default;

  /// Returns the index of a backend not in `excluded` (backends already tried for this
  /// connection, or deactivated), or nullopt when every backend is excluded. Calling pick again
  /// with the previous answer added to `excluded` yields the next candidate: that is failover.
  virtual std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) = 0;
};

/// Builds the strategy called `name` over `candidates`; nullptr if the name is unknown.
std::unique_ptr<Strategy> make_strategy(std::string_view name, std::span<const Candidate> candidates);

/// The names make_strategy accepts, for validation messages and docs.
std::span<const std::string_view> strategy_names();

}  // namespace fulcrum::balance
