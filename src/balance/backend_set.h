// A set of backend indices (a small bitset), used for "already tried" and "deactivated".
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fulcrum::balance {

/// A set of indices 0..size-1. Cheap to copy for pools of up to 64 backends (one word inline);
/// larger pools spill into a vector. Not thread-safe; a value type.
class BackendSet {
 public:
  BackendSet() = default;
  explicit BackendSet(std::size_t size) : size_(size), words_((size + 63) / 64, 0) {}

  std::size_t size() const { return size_; }
  bool contains(std::size_t index) const {
    return index < size_ && (words_[index / 64] >> (index % 64)) & 1u;
  }
  void insert(std::size_t index) {
    if (index < size_) words_[index / 64] |= std::uint64_t{1} << (index % 64);
  }
  void erase(std::size_t index) {
    if (index < size_) words_[index / 64] &= ~(std::uint64_t{1} << (index % 64));
  }
  std::size_t count() const {
    std::size_t n = 0;
    for (auto w : words_) n += static_cast<std::size_t>(std::popcount(w));
    return n;
  }
  /// True when every index 0..size-1 is in the set (also for size 0).
  bool full() const { return count() == size_; }
  void clear() {
    for (auto& w : words_) w = 0;
  }
  BackendSet& operator|=(const BackendSet& other) {
    for (std::size_t i = 0; i < words_.size() && i < other.words_.size(); ++i) words_[i] |= other.words_[i];
    return *this;
  }

 private:
  std::size_t size_ = 0;
  std::vector<std::uint64_t> words_;
};

}  // namespace fulcrum::balance
