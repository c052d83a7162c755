// A managed pool (pools.NAME.managed, src/managed/): Fulcrum starts its instances itself, adds
// them once ready, takes a killed one out at once and starts it again after the backoff, and shows
// an instance that keeps exiting as `crashloop` with delays growing to the cap.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <map>
#include <thread>

#include "integration/managed_test_config.h"
#include "support/wrk.h"

namespace fulcrum::test::managed {
namespace {

TEST(ManagedPool, ThreeInstancesServeAKilledOneIsRestartedAndServesAgainWithNoClientError) {
  FulcrumProcess fulcrum(managed_config("      command: " + server_command() + "\n"
                                        "      ports: " + port_range() + "\n"
                                        "      instances: 3\n"
                                        "      ready: { http: { path: / }, timeout: 5s }\n"
                                        "      restart: { backoff: 300ms..2s, reset_after: 1m }\n"),
                         2);
  const std::string web = fulcrum.address("web");
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "ready") == 3; }, 10s))
      << instances(admin).dump() << "\n" << fulcrum.process().all_output();

  // All three serve, each on a port of its own.
  std::map<std::string, int> answered;
  for (int i = 0; i < 30; ++i) ++answered[hello(web)];
  EXPECT_EQ(answered.size(), 3u);
  for (const char* name : {"hello from app-0", "hello from app-1", "hello from app-2"}) {
    EXPECT_EQ(answered.count(name), 1u) << name;
  }

  const nlohmann::json before = instances(admin);
  pid_t victim = -1;
  for (const auto& instance : before) {
    if (instance["name"] == "app-1") victim = instance["pid"].get<pid_t>();
  }
  ASSERT_GT(victim, 0) << before.dump();

  // Load while app-1 is killed: wrk on keep-alive connections (bounded: 4 s at most), and two
  // clients of our own on a new connection per request (bounded in requests and in time).
  BackgroundWrk wrk("http://" + web + "/", 4, 16);
  std::atomic<int> errors{0}, served{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      const auto until = std::chrono::steady_clock::now() + 4s;
      for (int i = 0; i < 3000 && !stop && std::chrono::steady_clock::now() < until; ++i) {
        int status = 0;
        const std::string body = hello(web, &status);
        if (status != 200 || body.empty()) ++errors; else ++served;
      }
    });
  }
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  // Restarted after the backoff: a new process, ready, the restart counted.
  const bool restarted = eventually(
      [&] {
        for (const auto& instance : instances(admin)) {
          if (instance["name"] == "app-1" && instance["state"] == "ready" && instance.value("pid", 0) != victim &&
              instance.value("restarts", 0) == 1)
            return true;
        }
        return false;
      },
      10s);
  stop = true;
  for (auto& client : clients) client.join();
  wrk.stop();
  ASSERT_TRUE(restarted) << instances(admin).dump();
  EXPECT_EQ(errors.load(), 0) << "of " << served.load() + errors.load() << " requests";
  EXPECT_GT(served.load(), 0);
  EXPECT_TRUE(clean_run(wrk, 100));

  // What happened is told: the exit with its signal, the restart with its delay (300 ms less at
  // most a quarter of jitter), the new instance ready.
  const auto exits = recent_events(admin, "instance_exited");
  ASSERT_FALSE(exits.empty());
  EXPECT_EQ(exits.back().value("instance", ""), "app-1");
  EXPECT_EQ(exits.back().value("signal", ""), "SIGKILL");
  EXPECT_EQ(exits.back().value("expected", true), false);
  const auto restarts = recent_events(admin, "instance_restarting");
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_GE(restarts[0].value("delay_ms", 0), 225);
  EXPECT_LE(restarts[0].value("delay_ms", 0), 300);
  EXPECT_EQ(recent_events(admin, "instance_ready").size(), 4u);

  // The new app-1 takes traffic again.
  EXPECT_TRUE(eventually([&] { return hello(web) == "hello from app-1"; }, 5s));
}

TEST(ManagedPool, AnInstanceThatAlwaysExitsIsShownAsCrashloopWithDelaysGrowingToTheCap) {
  FulcrumProcess fulcrum(managed_config("      command: " + server_command("--exit-at-once, \"3\"") + "\n"
                                        "      ports: " + port_range() + "\n"
                                        "      instances: 1\n"
                                        "      ready: { tcp: {}, timeout: 5s }\n"
                                        "      restart: { backoff: 50ms..400ms, reset_after: 1m }\n"),
                         2);
  const std::string admin = fulcrum.address("admin");
  // Delays 50, 100, 200, 400 (less jitter): crashloop from the fourth exit, within a second or so.
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "crashloop") == 1; }, 10s))
      << instances(admin).dump();
  // Retried at the cap while it keeps failing: at least two delays at the cap.
  ASSERT_TRUE(eventually([&] { return recent_events(admin, "instance_restarting").size() >= 6; }, 10s));

  const auto restarts = recent_events(admin, "instance_restarting");
  std::int64_t previous_cap = 0;
  for (std::size_t i = 0; i < restarts.size(); ++i) {
    const std::int64_t delay = restarts[i].value("delay_ms", std::int64_t{-1});
    const std::int64_t full = std::min<std::int64_t>(50 << std::min<std::size_t>(i, 10), 400);
    EXPECT_LE(delay, full) << "restart " << i;
    EXPECT_GE(delay, std::max<std::int64_t>(50, full * 3 / 4)) << "restart " << i;
    EXPECT_GE(full, previous_cap);
    previous_cap = full;
    EXPECT_EQ(restarts[i].value("failures", 0u), i + 1);
  }
  const auto exits = recent_events(admin, "instance_exited");
  ASSERT_FALSE(exits.empty());
  EXPECT_EQ(exits.back().value("status", -1), 3);
  // One crashloop event, when it began; the API and the metrics say it too (between two starts:
  // each start shows `starting` for the few milliseconds until the exit).
  EXPECT_EQ(recent_events(admin, "crashloop").size(), 1u);
  EXPECT_TRUE(eventually([&] {
    const nlohmann::json list = instances(admin);
    return list.size() == 1 && list[0].value("state", "") == "crashloop" && list[0].value("crashloop", false) &&
           list[0].value("last_exit", "") == "exit status 3" && list[0].value("restart_delay_ms", 0) >= 300 &&
           list[0].value("restart_delay_ms", 0) <= 400;
  })) << instances(admin).dump();
  EXPECT_TRUE(eventually([&] {
    const AdminReply metrics = admin_call(admin, "GET", "/metrics");
    return metric_sample(metrics.body, "fulcrum_managed_instance_crashloop{pool=\"app\",instance=\"app-0\"}") == 1 &&
           metric_sample(metrics.body, "fulcrum_managed_instances{pool=\"app\",state=\"crashloop\"}") == 1;
  })) << admin_call(admin, "GET", "/metrics").body;
  // It never joined the pool.
  const AdminReply pool = admin_call(admin, "GET", "/api/pools/app");
  EXPECT_TRUE(pool.json["backends"].empty()) << pool.body;
  EXPECT_EQ(pool.json["managed"]["crashloop"], true);
}

}  // namespace
}  // namespace fulcrum::test::managed

namespace fulcrum::test::managed {
namespace {

TEST(ManagedPool, InstanceOutputGoesToFulcrumsLogNamingTheInstanceOrToItsFileInLogDir) {
  {
    FulcrumProcess fulcrum(managed_config("      command: " + server_command("--say-long, \"4096\", --say-long, \"8292\"") + "\n"
                                          "      ports: " + port_range() + "\n"
                                          "      instances: 2\n"),
                           2);
    ASSERT_TRUE(eventually([&] { return count_in_state(instances(fulcrum.address("admin")), "ready") == 2; }, 10s));
    // The server says where it listens on stderr: one `instance output` line each, naming it.
    for (const char* name : {"app-0", "app-1"}) {
      EXPECT_TRUE(eventually([&] {
        fulcrum.process().read_output(std::chrono::milliseconds(20));
        for (const auto& line : fulcrum.process().lines()) {
          const auto entry = nlohmann::json::parse(line, nullptr, false);
          if (entry.is_object() && entry.value("msg", "") == "instance output" && entry.value("instance", "") == name &&
              entry.value("pool", "") == "app" &&
              entry.value("line", "").find(std::string(name) + " listening on port") != std::string::npos)
            return true;
        }
        return false;
      })) << name << "\n" << fulcrum.process().all_output();
    }
    // A line longer than 4 KiB is logged in pieces of 4 KiB at most (8292 = 2 × 4096 + 100), none
    // of them empty (a line of exactly 4096 is one piece).
    std::vector<std::size_t> pieces;
    for (const auto& line : fulcrum.process().lines()) {
      const auto entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("msg", "") == "instance output" && entry.value("instance", "") == "app-0" &&
          entry.value("line", "").find("listening") == std::string::npos)
        pieces.push_back(entry.value("line", "").size());
    }
    EXPECT_EQ(pieces, (std::vector<std::size_t>{4096, 4096, 4096, 100}));
  }
  const std::string marker = write_temp_file("marker", "");
  const std::string directory = marker.substr(0, marker.rfind('/'));
  FulcrumProcess fulcrum(managed_config("      command: " + server_command() + "\n"
                                        "      ports: " + port_range() + "\n"
                                        "      log_dir: " + directory + "\n"),
                         2);
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(fulcrum.address("admin")), "ready") == 1; }, 10s));
  EXPECT_TRUE(eventually([&] {
    std::ifstream file(directory + "/app-0.log");
    std::stringstream text;
    text << file.rdbuf();
    return text.str().find("app-0 listening on port") != std::string::npos;
  }));
  EXPECT_EQ(fulcrum.count_log("instance output"), 0u);
}

}  // namespace
}  // namespace fulcrum::test::managed

namespace fulcrum::test::managed {
namespace {

/// The pid of instance `name`, once it is ready with `restarts` restarts (-1 if not within 10 s).
pid_t ready_pid(const std::string& admin, const std::string& name, int restarts) {
  pid_t pid = -1;
  eventually(
      [&] {
        for (const auto& instance : instances(admin)) {
          if (instance["name"] == name && instance["state"] == "ready" && instance.value("restarts", -1) == restarts) {
            pid = instance["pid"].get<pid_t>();
            return true;
          }
        }
        return false;
      },
      10s);
  return pid;
}

TEST(ManagedPool, ExitsInARowDoubleTheDelayAndRunningWellForResetAfterStartsItOver) {
  FulcrumProcess fulcrum(managed_config("      command: " + server_command() + "\n"
                                        "      ports: " + port_range() + "\n"
                                        "      ready: tcp\n"
                                        "      restart: { backoff: 200ms..5s, reset_after: 1s }\n"),
                         2);
  const std::string admin = fulcrum.address("admin");
  const auto delays = [&] {
    std::vector<std::int64_t> out;
    for (const auto& event : recent_events(admin, "instance_restarting")) out.push_back(event.value("delay_ms", 0));
    return out;
  };
  // Killed right after it got ready, twice: the second delay doubles (400 ms less at most a quarter).
  pid_t pid = ready_pid(admin, "app-0", 0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  pid = ready_pid(admin, "app-0", 1);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  pid = ready_pid(admin, "app-0", 2);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(delays().size(), 2u);
  EXPECT_GE(delays()[1], 300);
  // Ready for longer than reset_after: the next exit is a first one again.
  EXPECT_TRUE(eventually([&] { return instances(admin)[0].value("failures", -1) == 0; }, 5s)) << instances(admin).dump();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_GT(ready_pid(admin, "app-0", 3), 0);
  ASSERT_EQ(delays().size(), 3u);
  EXPECT_LE(delays()[2], 200);
  const auto restarting = recent_events(admin, "instance_restarting");
  EXPECT_EQ(restarting.back().value("failures", 0), 1);
}

}  // namespace
}  // namespace fulcrum::test::managed
