// The sidecar reports its command's end as a shell does.
#include "cli/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

namespace fulcrum::cli {
namespace {

TEST(ExitCodeOf, ExitStatusOr128PlusTheSignal) {
  EXPECT_EQ(exit_code_of(W_EXITCODE(0, 0)), 0);
  EXPECT_EQ(exit_code_of(W_EXITCODE(3, 0)), 3);
  EXPECT_EQ(exit_code_of(W_EXITCODE(255, 0)), 255);
  EXPECT_EQ(exit_code_of(W_EXITCODE(0, SIGTERM)), 128 + SIGTERM);
  EXPECT_EQ(exit_code_of(W_EXITCODE(0, SIGKILL)), 137);
}

}  // namespace
}  // namespace fulcrum::cli
