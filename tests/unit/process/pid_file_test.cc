// The pid file: written whole (one line), read back strictly, removed only while it still names
// this process, moved aside for an upgrade.
#include "process/pid_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fulcrum::process {
namespace {

class PidFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() / ("fulcrum-pidfile-" + std::to_string(::getpid()) + "-" +
                                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }
  static std::string content(const std::string& file) {
    std::ifstream in(file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::filesystem::path directory_;
};

TEST_F(PidFileTest, WritesThePidOnOneLineAndReadsItBack) {
  PidFile file(path("fulcrum.pid"));
  ASSERT_EQ(file.write(4242), "");
  EXPECT_EQ(content(file.path()), "4242\n");
  EXPECT_EQ(file.pid(), 4242);
  std::string error;
  EXPECT_EQ(read_pid_file(file.path(), &error), 4242);
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".tmp"));
}

TEST_F(PidFileTest, RemoveDeletesOnlyAFileThatStillNamesUs) {
  PidFile file(path("fulcrum.pid"));
  ASSERT_EQ(file.write(4242), "");
  std::ofstream(file.path(), std::ios::trunc) << "777\n";  // a newer process claimed it
  EXPECT_EQ(file.remove(), "");
  EXPECT_EQ(content(file.path()), "777\n");

  PidFile ours(path("ours.pid"));
  ASSERT_EQ(ours.write(4242), "");
  EXPECT_EQ(ours.remove(), "");
  EXPECT_FALSE(std::filesystem::exists(ours.path()));
  EXPECT_EQ(ours.remove(), "");  // twice is harmless
}

TEST_F(PidFileTest, MoveToFollowsTheFile) {
  PidFile file(path("fulcrum.pid"));
  ASSERT_EQ(file.write(4242), "");
  ASSERT_EQ(file.move_to(path("fulcrum.pid.oldbin")), "");
  EXPECT_EQ(file.path(), path("fulcrum.pid.oldbin"));
  EXPECT_FALSE(std::filesystem::exists(path("fulcrum.pid")));
  EXPECT_EQ(content(path("fulcrum.pid.oldbin")), "4242\n");
  EXPECT_EQ(file.remove(), "");
  EXPECT_FALSE(std::filesystem::exists(path("fulcrum.pid.oldbin")));
}

TEST_F(PidFileTest, WriteFailsWithTheReasonInAMissingDirectory) {
  PidFile file(path("missing/fulcrum.pid"));
  const std::string error = file.write(4242);
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  EXPECT_EQ(file.pid(), 0);
}

TEST_F(PidFileTest, ReadRefusesWhatIsNotAPid) {
  for (const std::string text : {"", "\n", "abc\n", "12 34\n", "-5\n", "0\n", "12\n\n", "99999999999\n"}) {
    std::ofstream(path("bad.pid"), std::ios::trunc) << text;
    std::string error;
    EXPECT_FALSE(read_pid_file(path("bad.pid"), &error)) << '"' << text << '"';
    EXPECT_NE(error.find("does not hold a process id"), std::string::npos) << error;
  }
  std::ofstream(path("plain.pid"), std::ios::trunc) << "31";  // no newline: still a pid
  EXPECT_EQ(read_pid_file(path("plain.pid"), nullptr), 31);
  std::string error;
  EXPECT_FALSE(read_pid_file(path("none.pid"), &error));
  EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
}

}  // namespace
}  // namespace fulcrum::process
