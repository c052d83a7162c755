// No managed instance outlives Fulcrum: SIGTERM stops every instance (its stop signal, then
// SIGKILL after stop.timeout for one that ignores it), and a Fulcrum killed with SIGKILL takes its
// instances along (PR_SET_PDEATHSIG, set by the exec trampoline). Checked in the process table by
// the instances' process groups.
#include <signal.h>

#include "integration/managed_test_config.h"

namespace fulcrum::test::managed {
namespace {

std::string three_instances(const std::string& extra_arguments = "", const std::string& stop = "") {
  return managed_config("      command: " + server_command(extra_arguments) + "\n"
                        "      ports: " + port_range() + "\n"
                        "      instances: 3\n"
                        "      ready: tcp\n" +
                        stop);
}

TEST(ManagedStop, SigtermStopsEveryInstanceAndLeavesNoProcess) {
  FulcrumProcess fulcrum(three_instances(), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "ready") == 3; }, 10s));
  const std::set<pid_t> groups = instance_pids(instances(admin));
  ASSERT_EQ(groups.size(), 3u);
  ASSERT_EQ(alive_in_groups(groups).size(), 3u);

  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(15s), 0);
  EXPECT_TRUE(alive_in_groups(groups).empty());
  // Each stopped by its stop signal (SIGTERM by default), as expected.
  EXPECT_EQ(fulcrum.count_log("instance exited"), 3u);
  std::size_t by_term = 0;
  for (const auto& line : fulcrum.process().lines()) {
    by_term += line.find("\"instance exited\"") != std::string::npos &&
               line.find("signal SIGTERM") != std::string::npos;
  }
  EXPECT_EQ(by_term, 3u) << fulcrum.process().all_output();
}

TEST(ManagedStop, AnInstanceThatIgnoresItsStopSignalIsKilledAfterStopTimeout) {
  FulcrumProcess fulcrum(three_instances("--ignore-term", "      stop: { signal: SIGTERM, timeout: 300ms }\n"), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "ready") == 3; }, 10s));
  const std::set<pid_t> groups = instance_pids(instances(admin));

  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(15s), 0);
  EXPECT_TRUE(alive_in_groups(groups).empty());
  EXPECT_EQ(fulcrum.count_log("instance did not stop in time, killing it"), 3u) << fulcrum.process().all_output();
}

TEST(ManagedStop, FulcrumKilledWithSigkillLeavesNoInstance) {
  FulcrumProcess fulcrum(three_instances(), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "ready") == 3; }, 10s));
  const std::set<pid_t> groups = instance_pids(instances(admin));
  ASSERT_EQ(alive_in_groups(groups).size(), 3u);

  fulcrum.process().signal(SIGKILL);
  fulcrum.process().wait_exit(5s);
  // The kernel sends each instance its death signal as Fulcrum's control thread dies; nobody
  // reaps them but init, so wait until they are gone from the table (or zombies).
  EXPECT_TRUE(eventually([&] { return alive_in_groups(groups).empty(); }, 5s)) << alive_in_groups(groups).size();
}

}  // namespace
}  // namespace fulcrum::test::managed
