// A table of counter blocks indexed by a slot number that the control thread hands out while the
// balancer runs (listeners, routes and pools added by a reload; backends added at run time), so it
// cannot be sized at start. The owning worker allocates a chunk of 64 blocks the first time it
// counts in it and publishes the chunk with a release store; readers on other threads load it with
// acquire and see zeroed blocks or counts. Chunks are never moved or freed before the table, so a
// block's address stays valid for the table's life (sessions keep pointers to theirs).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace fulcrum::metrics {

template <typename Block>
class SlotTable {
 public:
  static constexpr std::size_t kChunk = 64;
  static constexpr std::size_t kMaxChunks = 4096;  // 262,144 slots

  SlotTable() : chunks_(std::make_unique<std::atomic<Block*>[]>(kMaxChunks)) {
    for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
  }
  ~SlotTable() {
    for (std::size_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
  }
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;

  /// Owner thread: the block of `slot`, its chunk allocated on first use. Slots past the table's
  /// capacity share one overflow block (counts stay, attributed together, rather than crash).
  Block& at(std::uint64_t slot) {
    const std::uint64_t chunk = slot / kChunk;
    if (chunk >= kMaxChunks) return overflow_;
    Block* blocks = chunks_[chunk].load(std::memory_order_relaxed);
    if (!blocks) {
      blocks = new Block[kChunk];
      chunks_[chunk].store(blocks, std::memory_order_release);
    }
    return blocks[slot % kChunk];
  }

  /// Any thread: the block of `slot`, or null when the owner never counted in its chunk.
  const Block* find(std::uint64_t slot) const {
    const std::uint64_t chunk = slot / kChunk;
    if (chunk >= kMaxChunks) return &overflow_;
    const Block* blocks = chunks_[chunk].load(std::memory_order_acquire);
    return blocks ? &blocks[slot % kChunk] : nullptr;
  }

 private:
  std::unique_ptr<std::atomic<Block*>[]> chunks_;
  Block overflow_;
};

}  // namespace fulcrum::metrics
