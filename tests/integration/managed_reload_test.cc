// A reload and managed pools: a pool the file adds with `managed:` starts its instances, and a
// managed pool the file removes stops them (drained, then signalled: no process left).
#include <signal.h>

#include <fstream>
#include <future>

#include "integration/managed_test_config.h"

namespace fulcrum::test::managed {
namespace {

/// Listener `web` over managed pool `pool` (one instance answering `hello from <pool>-0`).
std::string one_pool(const std::string& pool, const std::string& ports, const std::string& arguments = "") {
  return "workers: 2\n"
         "drain_timeout: 2s\n"
         "listeners:\n"
         "  - name: web\n"
         "    listen: 127.0.0.1:0\n"
         "    mode: http\n"
         "    pool: " + pool + "\n"
         "admin:\n"
         "  listen: 127.0.0.1:0\n"
         "pools:\n"
         "  " + pool + ":\n"
         "    managed:\n"
         "      command: " + server_command(arguments) + "\n"
         "      ports: " + ports + "\n"
         "      ready: tcp\n";
}

nlohmann::json pool_instances(const std::string& admin, const std::string& pool) {
  const AdminReply reply = admin_call(admin, "GET", "/api/pools/" + pool + "/instances");
  return reply.status == 200 ? reply.json : nlohmann::json();
}

TEST(ManagedReload, APoolAddedByAReloadStartsItsInstancesAndOneRemovedStopsThem) {
  FulcrumProcess fulcrum(one_pool("app", port_range()), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string web = fulcrum.address("web");
  ASSERT_TRUE(eventually([&] { return count_in_state(pool_instances(admin, "app"), "ready") == 1; }, 10s));
  const std::set<pid_t> old_groups = instance_pids(pool_instances(admin, "app"));
  ASSERT_EQ(old_groups.size(), 1u);
  EXPECT_EQ(hello(web), "hello from app-0");

  {
    std::ofstream file(fulcrum.config_path(), std::ios::trunc);
    file << one_pool("next", port_range());
  }
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }, 5s))
      << fulcrum.process().all_output();
  EXPECT_TRUE(eventually([&] { return count_in_state(pool_instances(admin, "next"), "ready") == 1; }, 10s));
  EXPECT_TRUE(eventually([&] { return hello(web) == "hello from next-0"; }, 5s));
  EXPECT_TRUE(eventually([&] { return alive_in_groups(old_groups).empty(); }, 10s)) << "app's instance still runs";
}

}  // namespace
}  // namespace fulcrum::test::managed

namespace fulcrum::test::managed {
namespace {

// A changed section that keeps the program (command, env, cwd) applies to instances started from
// then on: the running ones stay (a new program rolls them: managed_roll_test.cc).
TEST(ManagedReload, AChangedManagedSectionWithTheSameProgramLeavesTheInstancesRunning) {
  const std::string ports = port_range();
  FulcrumProcess fulcrum(one_pool("app", ports), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return count_in_state(pool_instances(admin, "app"), "ready") == 1; }, 10s));
  const std::set<pid_t> groups = instance_pids(pool_instances(admin, "app"));
  {
    std::ofstream file(fulcrum.config_path(), std::ios::trunc);
    file << one_pool("app", ports) << "      stop: { timeout: 3s }\n";
  }
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }, 5s));
  EXPECT_EQ(fulcrum.count_log("reload: not applied"), 0u);
  EXPECT_EQ(fulcrum.count_log("rolling restart"), 0u);
  EXPECT_EQ(instance_pids(pool_instances(admin, "app")), groups);
  EXPECT_EQ(alive_in_groups(groups).size(), 1u);
}

}  // namespace
}  // namespace fulcrum::test::managed

namespace fulcrum::test::managed {
namespace {

TEST(ManagedReload, AStoppedInstanceFinishesWhatIsInFlightBeforeItGetsItsStopSignal) {
  FulcrumProcess fulcrum(one_pool("app", port_range(), "--slow-ms, \"1500\""), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string web = fulcrum.address("web");
  ASSERT_TRUE(eventually([&] { return count_in_state(pool_instances(admin, "app"), "ready") == 1; }, 10s));
  const std::set<pid_t> groups = instance_pids(pool_instances(admin, "app"));

  // A request the instance answers 1.5 s after it arrived.
  auto answer = std::async(std::launch::async, [&] {
    int status = 0;
    const std::string body = hello(web, &status);
    return std::to_string(status) + " " + body;
  });
  const auto in_flight = [&] {
    const AdminReply pool = admin_call(admin, "GET", "/api/pools/app");
    return pool.status == 200 && !pool.json["backends"].empty() && pool.json["backends"][0].value("active", 0) == 1;
  };
  ASSERT_TRUE(eventually(in_flight, 2s));

  // The file drops the pool: its instance leaves rotation at once, but gets SIGTERM only once the
  // request it serves is answered.
  {
    std::ofstream file(fulcrum.config_path(), std::ios::trunc);
    file << one_pool("next", port_range());
  }
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }, 5s));
  EXPECT_EQ(answer.get(), "200 hello from app-0");
  EXPECT_TRUE(eventually([&] { return alive_in_groups(groups).empty(); }, 10s)) << "app's instance still runs";
  const auto exits = recent_events(admin, "instance_exited");
  ASSERT_FALSE(exits.empty());
  EXPECT_EQ(exits[0].value("instance", ""), "app-0");
  EXPECT_EQ(exits[0].value("signal", ""), "SIGTERM");
  EXPECT_EQ(exits[0].value("expected", false), true);
}

}  // namespace
}  // namespace fulcrum::test::managed
