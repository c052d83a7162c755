#include "core/buffer.h"

#include <gtest/gtest.h>

#include <vector>

namespace fulcrum::core {
namespace {

// Blocks given back are kept up to max_idle or the number still in use, whichever is more: a
// working set larger than max_idle cycles without going back to the allocator.
TEST(BufferPool, KeepsAsManyFreeBlocksAsAreInUseUnderLoad) {
  BufferPool pool(1024, /*max_idle=*/4);
  std::vector<Buffer> buffers(20);
  for (auto& buffer : buffers) pool.attach(buffer);
  EXPECT_EQ(pool.in_use(), 20u);
  for (int i = 0; i < 10; ++i) pool.detach(buffers[i]);  // half the working set comes back
  EXPECT_EQ(pool.in_use(), 10u);
  EXPECT_EQ(pool.idle(), 10u);  // beyond max_idle (4): the other half is still busy
  for (int i = 0; i < 10; ++i) pool.attach(buffers[i]);
  EXPECT_EQ(pool.idle(), 0u);  // all reused, none allocated anew
  EXPECT_EQ(pool.in_use(), 20u);
}

TEST(BufferPool, ShrinksBackToMaxIdleWhenTheLoadGoes) {
  BufferPool pool(1024, /*max_idle=*/4);
  std::vector<Buffer> buffers(20);
  for (auto& buffer : buffers) pool.attach(buffer);
  for (auto& buffer : buffers) pool.detach(buffer);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_LE(pool.idle(), 10u);  // never more free than in use (or max_idle)
  EXPECT_GE(pool.idle(), 4u);
}

TEST(BufferPool, ABufferWithUnreadBytesKeepsItsBlockUnlessForced) {
  BufferPool pool(64, 4);
  Buffer buffer;
  pool.attach(buffer);
  buffer.tail()[0] = 'x';
  buffer.produced(1);
  pool.detach(buffer);
  EXPECT_EQ(pool.in_use(), 1u);
  pool.detach(buffer, /*force=*/true);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.idle(), 1u);
}

}  // namespace
}  // namespace fulcrum::core
