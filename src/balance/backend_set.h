// A set of backend indices (a small bitset), used for "already tried" and "deactivated".
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace fulcrum::balance {

/// A set of indices 0..size-1. Pools of up to 128 backends live inline (no allocation: a set is
/// built for every pick); larger ones use the heap. Not thread-safe; a value type.
class BackendSet {
 public:
  BackendSet() = default;
  explicit BackendSet(std::size_t size) : size_(size), word_count_((size + 63) / 64) {
    if (word_count_ > kInlineWords) heap_ = std::make_unique<std::uint64_t[]>(word_count_);
  }
  BackendSet(const BackendSet& other) : BackendSet(other.size_) { std::copy_n(other.words(), word_count_, words()); }
  BackendSet& operator=(const BackendSet& other) {
    if (this != &other) {
      BackendSet copy(other);
      swap(copy);
    }
    return *this;
  }
  BackendSet(BackendSet&&) noexcept = default;
  BackendSet& operator=(BackendSet&&) noexcept = default;

  std::size_t size() const { return size_; }
  bool contains(std::size_t index) const { return index < size_ && (words()[index / 64] >> (index % 64)) & 1u; }
  void insert(std::size_t index) {
    if (index < size_) words()[index / 64] |= std::uint64_t{1} << (index % 64);
  }
  void erase(std::size_t index) {
    if (index < size_) words()[index / 64] &= ~(std::uint64_t{1} << (index % 64));
  }
  std::size_t count() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < word_count_; ++i) n += static_cast<std::size_t>(std::popcount(words()[i]));
    return n;
  }
  /// True when every index 0..size-1 is in the set (also for size 0).
  bool full() const { return count() == size_; }
  void clear() { std::fill_n(words(), word_count_, 0); }
  BackendSet& operator|=(const BackendSet& other) {
    const std::size_t n = std::min(word_count_, other.word_count_);
    for (std::size_t i = 0; i < n; ++i) words()[i] |= other.words()[i];
    return *this;
  }

 private:
  static constexpr std::size_t kInlineWords = 2;

  std::uint64_t* words() { return heap_ ? heap_.get() : inline_; }
  const std::uint64_t* words() const { return heap_ ? heap_.get() : inline_; }
  void swap(BackendSet& other) {
    std::swap(size_, other.size_);
    std::swap(word_count_, other.word_count_);
    std::swap(inline_, other.inline_);
    std::swap(heap_, other.heap_);
  }

  std::size_t size_ = 0;
  std::size_t word_count_ = 0;
  std::uint64_t inline_[kInlineWords] = {0, 0};
  std::unique_ptr<std::uint64_t[]> heap_;
};

}  // namespace fulcrum::balance
