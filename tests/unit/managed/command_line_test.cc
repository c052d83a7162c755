#include "managed/command_line.h"

#include <gtest/gtest.h>

#include "managed/notify_socket.h"

namespace fulcrum::managed {
namespace {

TEST(ManagedCommandLine, SubstitutesPortIndexAndPoolAndLeavesOtherBracesAlone) {
  const InstanceWords words{9101, 2, "app"};
  EXPECT_EQ(substitute("{port}", words), "9101");
  EXPECT_EQ(substitute("127.0.0.1:{port}", words), "127.0.0.1:9101");
  EXPECT_EQ(substitute("{pool}-{index}", words), "app-2");
  EXPECT_EQ(substitute("{port}:80", words), "9101:80");
  EXPECT_EQ(substitute("--format={{.ID}}", words), "--format={{.ID}}");
  EXPECT_EQ(substitute("{ports}{", words), "{ports}{");
  EXPECT_EQ(substitute("", words), "");
}

TEST(ManagedCommandLine, EnvironmentDropsFulcrumsNotifySocketAndLetsTheConfigWin) {
  ManagedConfig config;
  config.env = {{"APP_ENV", "production"}, {"HOME", "/srv/app"}};
  const auto env = instance_environment({"PATH=/bin", "HOME=/root", "NOTIFY_SOCKET=/run/systemd/notify", "HOMEX=1"},
                                        config, "");
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HOMEX=1", "APP_ENV=production", "HOME=/srv/app"}));
  const auto notify = instance_environment({"PATH=/bin"}, config, "@fulcrum/1/2/3");
  EXPECT_EQ(notify.back(), "NOTIFY_SOCKET=@fulcrum/1/2/3");
}

TEST(NotifyProtocol, ReadyIsOneAssignmentAmongOthers) {
  EXPECT_TRUE(says_ready("READY=1"));
  EXPECT_TRUE(says_ready("STATUS=serving\nREADY=1\n"));
  EXPECT_FALSE(says_ready("READY=0\n"));
  EXPECT_FALSE(says_ready("STATUS=READY=1\n"));
  EXPECT_FALSE(says_ready("NOTREADY=1"));
  EXPECT_FALSE(says_ready(""));
}

}  // namespace
}  // namespace fulcrum::managed
