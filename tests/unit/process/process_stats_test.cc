// read_process_stats() against this very process: figures that must hold for any live process,
// and that move the way the process does (a descriptor opened is counted).
#include "process/process_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

namespace fulcrum::process {
namespace {

TEST(ProcessStats, DescribesThisProcess) {
  const ProcessStats before = read_process_stats();
  ASSERT_TRUE(before.ok);
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(before.start_time_seconds, now - 3600);  // this test binary started within the hour
  EXPECT_LE(before.start_time_seconds, now + 1);
  EXPECT_GT(before.resident_memory_bytes, 0u);
  EXPECT_GE(before.virtual_memory_bytes, before.resident_memory_bytes);
  EXPECT_GE(before.open_fds, 3u);  // stdin, stdout, stderr at least
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(before.max_fds, limit.rlim_cur);

  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_process_stats().open_fds, before.open_fds + 1);
  ::close(fd);

  // CPU time grows with work (counted in clock ticks: spin until it shows, for at most 2 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool grew = false;
  volatile unsigned long spin = 0;
  while (!grew && std::chrono::steady_clock::now() < deadline) {
    for (unsigned long i = 0; i < 1'000'000ul; ++i) spin = spin + i;
    grew = read_process_stats().cpu_seconds > before.cpu_seconds;
  }
  EXPECT_TRUE(grew);
}

}  // namespace
}  // namespace fulcrum::process
