// Counters and gauges written by one thread and read by others (the control thread, for metrics).
//
// A Counter has exactly one writer: add() is a relaxed load and a relaxed store (plain moves on
// x86-64 and AArch64), never a read-modify-write on a shared cache line, so a worker pays nothing
// for other threads being able to read it. Readers see a value that is at most a few increments
// old. Two writers on one Counter would lose increments: keep one block per worker.
#pragma once

#include <atomic>
#include <cstdint>

namespace fulcrum::metrics {

/// A monotonically increasing count with a single writing thread.
class Counter {
 public:
  /// Owner thread only.
  void add(std::uint64_t n) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void increment() { add(1); }
  /// Any thread.
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  /// Owner thread only: back to 0 (a block handed to a new owner).
  void reset() { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A level that goes up and down, with a single writing thread.
class Gauge {
 public:
  /// Owner thread only.
  void set(std::int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(std::int64_t delta) { set(value() + delta); }
  /// Any thread.
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

}  // namespace fulcrum::metrics
