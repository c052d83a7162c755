// Byte buffers for the HTTP data path: fixed-size blocks recycled per worker, held by a connection
// only while it has bytes in flight. An idle keep-alive connection gives its buffer back, so it
// costs its session object and nothing more (NGINX's lesson).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace fulcrum::core {

class BufferPool;

/// A window [start, end) of unread bytes inside a fixed block. Empty and blockless when released.
/// Owned by one connection on one worker thread.
class Buffer {
 public:
  Buffer() = default;
  /// Gives the block back to its pool, if it still holds one.
  inline ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  bool allocated() const { return block_ != nullptr; }
  /// The unread bytes.
  char* data() { return block_ + start_; }
  const char* data() const { return block_ + start_; }
  std::size_t size() const { return end_ - start_; }
  bool empty() const { return end_ == start_; }
  std::string_view view() const { return {block_ + start_, end_ - start_}; }
  /// Room after the unread bytes, for the next read.
  char* tail() { return block_ + end_; }
  std::size_t tail_room() const { return capacity_ - end_; }
  std::size_t capacity() const { return capacity_; }
  /// `n` bytes were written at tail().
  void produced(std::size_t n) { end_ += n; }
  /// The first `n` unread bytes are done with.
  void consume(std::size_t n) {
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;
  }
  /// Moves the unread bytes to the front of the block (invalidates views into it).
  void compact() {
    if (start_ == 0) return;
    std::memmove(block_, block_ + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }

 private:
  friend class BufferPool;
  BufferPool* pool_ = nullptr;
  char* block_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
};

/// Blocks of one size, recycled. Free blocks are kept up to `max_idle` (a few MiB) or up to the
/// number of blocks in use, whichever is more: under load a connection takes and gives back blocks
/// on every request, and a cap below the working set would send a burst of them back to the
/// allocator each loop turn, which gives the pages back to the kernel (heap trim, madvise) and faults
/// them in again on the next allocation (3 % of a worker's CPU at 50 busy connections). When the
/// load goes, the free list shrinks back to `max_idle` as blocks come back. Owned by one worker
/// thread; not thread-safe.
class BufferPool {
 public:
  explicit BufferPool(std::size_t block_size, std::size_t max_idle = 128) : block_size_(block_size), max_idle_(max_idle) {}
  ~BufferPool() {
    for (char* block : idle_) delete[] block;
  }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  std::size_t block_size() const { return block_size_; }
  /// Blocks handed out and not given back.
  std::size_t in_use() const { return in_use_; }
  /// Free blocks kept for reuse.
  std::size_t idle() const { return idle_.size(); }

  /// Gives `buffer` a block if it has none.
  void attach(Buffer& buffer) {
    if (buffer.block_) return;
    if (!idle_.empty()) {
      buffer.block_ = idle_.back();
      idle_.pop_back();
    } else {
      buffer.block_ = new char[block_size_];
    }
    ++in_use_;
    buffer.pool_ = this;
    buffer.capacity_ = block_size_;
    buffer.start_ = buffer.end_ = 0;
  }
  /// Takes the block back if the buffer holds no unread bytes (or `force`).
  void detach(Buffer& buffer, bool force = false) {
    if (!buffer.block_ || (!force && !buffer.empty())) return;
    --in_use_;
    if (idle_.size() < std::max(max_idle_, in_use_)) {
      idle_.push_back(buffer.block_);
    } else {
      delete[] buffer.block_;
    }
    buffer.block_ = nullptr;
    buffer.capacity_ = buffer.start_ = buffer.end_ = 0;
  }

 private:
  std::size_t block_size_;
  std::size_t max_idle_;
  std::size_t in_use_ = 0;
  std::vector<char*> idle_;
};

Buffer::~Buffer() {
  if (block_ && pool_) pool_->detach(*this, /*force=*/true);
}

}  // namespace fulcrum::core
