// process::ChildUpgrade, the old process's side of a binary upgrade, with small shell scripts for
// the new process: what the child receives (sockets, variables, the readiness pipe), and the
// outcomes the balancer acts on (ready; exited; not ready in time, then killed and reaped). The
// 30 s readiness timeout of the daemon is shortened here to keep the test fast.
#include "process/upgrade.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/address.h"
#include "net/socket.h"
#include "support/fulcrum_process.h"

namespace fulcrum::process {
namespace {

using namespace std::chrono_literals;

ChildUpgrade::State wait_outcome(ChildUpgrade& child, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (child.poll() == ChildUpgrade::State::Starting && std::chrono::steady_clock::now() < deadline) {
    child.wait(20ms);
  }
  return child.state();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(UpgradeSpawn, TheChildGetsTheSocketsAndThePipeAndSaysItIsReady) {
  std::string error;
  auto listener = net::bind_listener(*net::Address::parse_numeric("127.0.0.1:0"), 16, &error);
  ASSERT_TRUE(listener) << error;
  const std::string out = test::write_temp_file("child.txt", "");
  UpgradeSpawn spawn;
  spawn.program = "/bin/sh";
  // The child reports what it got, then writes the byte; `exec sleep` keeps it alive as a ready
  // new process would stay.
  spawn.arguments = {"sh", "-c",
                     "echo \"$FULCRUM_INHERITED_FDS\" > " + out + "; test -e /proc/self/fd/" +
                         std::to_string(listener.get()) + " && echo open >> " + out +
                         "; printf R >&$FULCRUM_UPGRADE_READY_FD; exec sleep 10"};
  spawn.sockets = {{SocketKind::Listener, "web", 0, listener.get()}};
  auto child = ChildUpgrade::spawn(spawn, error);
  ASSERT_TRUE(child) << error;
  EXPECT_EQ(wait_outcome(*child, 5s), ChildUpgrade::State::Ready) << child->reason();
  EXPECT_EQ(read_file(out), "listener:web:0:" + std::to_string(listener.get()) + "\nopen\n");
  // Ready: the child is left running (it is the new balancer); this test ends it.
  EXPECT_EQ(kill(child->pid(), 0), 0);
  kill(child->pid(), SIGKILL);
  int status = 0;
  for (int i = 0; i < 300 && !child->reap_if_exited(&status); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(UpgradeSpawn, AChildThatExitsFirstFailsWithItsStatus) {
  UpgradeSpawn spawn;
  spawn.program = "/bin/sh";
  spawn.arguments = {"sh", "-c", "exit 4"};
  std::string error;
  auto child = ChildUpgrade::spawn(spawn, error);
  ASSERT_TRUE(child) << error;
  EXPECT_EQ(wait_outcome(*child, 5s), ChildUpgrade::State::Failed);
  EXPECT_NE(child->reason().find("exited with status 4"), std::string::npos) << child->reason();
}

TEST(UpgradeSpawn, AChildNotReadyInTimeIsKilledAndReaped) {
  UpgradeSpawn spawn;
  spawn.program = "/bin/sleep";
  spawn.arguments = {"sleep", "20"};
  spawn.ready_timeout = 300ms;
  std::string error;
  auto child = ChildUpgrade::spawn(spawn, error);
  ASSERT_TRUE(child) << error;
  const pid_t pid = child->pid();
  EXPECT_EQ(wait_outcome(*child, 5s), ChildUpgrade::State::Failed);
  EXPECT_NE(child->reason().find("not ready within 300 ms"), std::string::npos) << child->reason();
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1) << "the late child was not killed and reaped";
  EXPECT_EQ(errno, ESRCH);
}

TEST(UpgradeSpawn, AProgramMovedAwayRunsTheRunningBinaryInstead) {
  UpgradeSpawn spawn;
  spawn.program = test::write_temp_file("gone", "") + ".missing";
  // /proc/self/exe is this test binary: asked for its tests, it lists them and exits 0.
  spawn.arguments = {"integration_tests", "--gtest_list_tests", "--gtest_filter=UpgradeSpawn.None"};
  std::string error;
  auto child = ChildUpgrade::spawn(spawn, error);
  ASSERT_TRUE(child) << error;
  EXPECT_EQ(wait_outcome(*child, 10s), ChildUpgrade::State::Failed);
  EXPECT_NE(child->reason().find("exited with status 0"), std::string::npos)
      << child->reason() << " (127 would mean nothing was executed)";
}

net::UniqueFd bound_socket(const std::string& address) {
  std::string error;
  auto fd = net::bind_listener(*net::Address::parse_numeric(address), 16, &error);
  EXPECT_TRUE(fd) << error;
  return fd;
}

TEST(InheritedSocketsTaken, ByNameAndAddressThenByAddressAlone) {
  auto web0 = bound_socket("127.0.0.1:0");
  const auto web_address = net::Address::local_of(web0.get());
  auto web1 = bound_socket(web_address.to_string());  // SO_REUSEPORT: worker 1's socket
  auto api = bound_socket("127.0.0.1:0");
  auto admin = bound_socket("127.0.0.1:0");
  auto unused = bound_socket("127.0.0.1:0");
  const int unused_fd = unused.get();
  auto handed = InheritedSockets::adopt({{SocketKind::Listener, "web", 1, web1.release()},
                                         {SocketKind::Listener, "web", 0, web0.release()},
                                         {SocketKind::Listener, "api", 0, api.release()},
                                         {SocketKind::Admin, "", 0, admin.release()},
                                         {SocketKind::Listener, "old", 0, unused.release()}});
  // Configured with port 0: the port already bound is kept; sorted by worker.
  auto taken = handed.take_listener("web", *net::Address::parse_numeric("127.0.0.1:0"));
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(net::Address::local_of(taken[0].get()), web_address);
  // Another address for the same name: not that listener's socket.
  EXPECT_TRUE(handed.take_listener("api", *net::Address::parse_numeric("127.0.0.2:0")).empty());
  auto admin_taken = handed.take_single(SocketKind::Admin, *net::Address::parse_numeric("127.0.0.1:0"));
  ASSERT_TRUE(admin_taken);
  auto api_taken = handed.take_listener("api", *net::Address::parse_numeric("127.0.0.1:0"));
  ASSERT_EQ(api_taken.size(), 1u);
  // A renamed listener on a handed address takes that socket.
  const auto old_address = net::Address::local_of(unused_fd);
  auto renamed = handed.take_listener("renamed", old_address);
  ASSERT_EQ(renamed.size(), 1u);
  EXPECT_EQ(renamed[0].get(), unused_fd);
  EXPECT_EQ(handed.close_unused(), 0u);
}

TEST(InheritedSocketsTaken, UnusedOnesAreClosed) {
  auto socket = bound_socket("127.0.0.1:0");
  const int fd = socket.get();
  auto handed = InheritedSockets::adopt({{SocketKind::Listener, "gone", 0, socket.release()}});
  EXPECT_TRUE(handed.take_listener("other", *net::Address::parse_numeric("127.0.0.1:0")).empty())
      << "port 0 names no particular socket: another listener's is not taken";
  EXPECT_EQ(handed.close_unused(), 1u);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "the unused socket is still open";
}

TEST(UpgradeSpawn, StartedPathIsAbsoluteWithoutResolvingLinks) {
  EXPECT_EQ(started_path("/usr/sbin/fulcrum"), "/usr/sbin/fulcrum");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(started_path("bin/fulcrum"), std::string(cwd) + "/bin/fulcrum");
  EXPECT_EQ(started_path("./fulcrum"), std::string(cwd) + "/fulcrum");
  EXPECT_EQ(started_path("sh").front(), '/') << "found on PATH";
  EXPECT_EQ(started_path("no-such-program-here"), "");
}

}  // namespace
}  // namespace fulcrum::process
