// Rolling restarts of a managed pool (issue 14 §2) against the real binary and real instances:
// `fulcrum pool restart` (POST /api/pools/{pool}/restart) under load replaces every instance one at
// a time with no failed request and never fewer instances serving than before; a reload that
// changes the command to one that cannot start fails the roll (`roll_failed`) with the old
// instances still serving; a reload that changes the env rolls the pool to the end. Load loops are
// bounded in requests and in time.
#include <atomic>
#include <set>
#include <thread>

#include "integration/managed_scaling_helpers.h"
#include "support/http_command.h"
#include "support/wrk.h"

namespace fulcrum::test::managed {
namespace {

std::string three_instances(const std::string& ports, const std::string& extra_lines = "",
                            const std::string& command = server_command()) {
  return "      command: " + command + "\n"
         "      ports: " + ports + "\n"
         "      instances: 3\n"
         "      max_parallel: 1\n"
         "      ready: { http: { path: / }, timeout: 5s }\n"
         "      stop: { signal: SIGTERM, timeout: 3s }\n" +
         extra_lines;
}

std::set<pid_t> pid_set(const std::map<std::string, pid_t>& pids) {
  std::set<pid_t> out;
  for (const auto& [name, pid] : pids) out.insert(pid);
  return out;
}

TEST(ManagedRoll, RestartUnderLoadReplacesEveryInstanceWithNoErrorAndNeverFewerServing) {
  FulcrumProcess fulcrum(scaling_config(three_instances(port_range())), 2);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 3; }, 10s))
      << app_instances(admin).dump() << "\n" << fulcrum.process().all_output();
  const std::set<pid_t> before = pid_set(pids_in_state(app_instances(admin), "ready"));

  // wrk -c50 on keep-alive connections (bounded: 25 s at most, stopped when the roll is done),
  // four clients of our own on a new connection per request, each bounded in requests and in
  // time; a watcher counts the ready instances.
  BackgroundWrk wrk("http://" + front + "/", 25, 50);
  std::atomic<int> errors{0}, served{0};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> fewest_ready{1000};
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&] {
      const auto until = std::chrono::steady_clock::now() + 30s;
      for (int i = 0; i < 20000 && !stop && std::chrono::steady_clock::now() < until; ++i) {
        int status = 0;
        const std::string body = hello(front, &status);
        if (status != 200 || body.empty()) ++errors; else ++served;
      }
    });
  }
  threads.emplace_back([&] {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!stop && std::chrono::steady_clock::now() < until) {
      const auto list = app_instances(admin);
      if (list.is_array()) fewest_ready = std::min(fewest_ready.load(), count_in_state(list, "ready"));
      std::this_thread::sleep_for(20ms);
    }
  });
  std::this_thread::sleep_for(300ms);

  // Through the command line, as an operator would.
  const auto restart = run_command({fulcrum_binary(), "pool", "restart", "--admin", "http://" + admin, "app",
                                    "--token", kScalingToken},
                                   10s);
  ASSERT_EQ(restart.exit_code, 0) << restart.err;
  const auto accepted = nlohmann::json::parse(restart.out, nullptr, false);
  EXPECT_EQ(accepted.value("state", ""), "running") << restart.out;
  EXPECT_EQ(accepted.value("total", 0), 3);
  EXPECT_EQ(accepted.value("reason", ""), "api");

  const bool done = eventually([&] { return app_member(admin, "roll").value("state", "") == "done"; }, 25s);
  stop = true;
  for (auto& thread : threads) thread.join();
  wrk.stop();
  ASSERT_TRUE(done) << app_pool(admin).dump() << "\n" << app_instances(admin).dump();

  EXPECT_EQ(errors.load(), 0) << "of " << served.load() + errors.load() << " requests";
  EXPECT_TRUE(clean_run(wrk, 100));
  EXPECT_GT(served.load(), 50);
  // The bound is instances − max_parallel; a replacement serves before its old instance
  // leaves, so the pool never had fewer than the 3 it began with.
  EXPECT_GE(fewest_ready.load(), 3u);

  // Three instances again, every one a new process; the old ones are gone from the process table.
  ASSERT_TRUE(eventually([&] { return app_instances(admin).size() == 3; }, 10s)) << app_instances(admin).dump();
  const auto after = pids_in_state(app_instances(admin), "ready");
  ASSERT_EQ(after.size(), 3u) << app_instances(admin).dump();
  for (const auto& [name, pid] : after) EXPECT_EQ(before.count(pid), 0u) << name << " kept pid " << pid;
  EXPECT_TRUE(eventually([&] { return alive_in_groups(before).empty(); }, 10s));

  const nlohmann::json roll = app_member(admin, "roll");
  EXPECT_EQ(roll.value("done", 0), 3);
  const nlohmann::json steps = roll.value("steps", nlohmann::json::array());
  ASSERT_EQ(steps.size(), 3u) << roll.dump();
  for (const auto& step : steps) EXPECT_EQ(step.value("state", ""), "done") << roll.dump();
  const auto started = events_of(admin, "roll_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].value("pool", ""), "app");
  EXPECT_EQ(started[0].value("instances", 0), 3);
  EXPECT_EQ(started[0].value("max_parallel", 0), 1);
  const auto finished = events_of(admin, "roll_done");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].value("replaced", 0), 3);
  EXPECT_TRUE(events_of(admin, "roll_failed").empty());
}

TEST(ManagedRoll, AReloadToACommandThatCannotStartFailsTheRollAndKeepsTheOldInstances) {
  const std::string ports = port_range();
  FulcrumProcess fulcrum(scaling_config(three_instances(ports)), 2);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 3; }, 10s))
      << app_instances(admin).dump();
  const auto before = pids_in_state(app_instances(admin), "ready");

  // The new program exits at once: its first replacement never gets ready.
  std::ofstream(fulcrum.config_path(), std::ios::trunc)
      << scaling_config(three_instances(ports, "", server_command("--exit-at-once, \"3\"")));
  const AdminReply reload = scaling_call(admin, "POST", "/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_NE(reload.body.find("managed command changed (its instances roll)"), std::string::npos) << reload.body;

  ASSERT_TRUE(eventually([&] { return events_of(admin, "roll_failed").size() == 1; }, 10s))
      << app_pool(admin).dump();
  const auto failed = events_of(admin, "roll_failed")[0];
  EXPECT_EQ(failed.value("pool", ""), "app");
  EXPECT_EQ(failed.value("reason", ""), "reload");
  EXPECT_EQ(failed.value("cause", ""), "replacement_exited");
  EXPECT_EQ(failed.value("replaced", -1), 0);
  EXPECT_NE(failed.value("detail", "").find("exit status 3"), std::string::npos) << failed.dump();
  const nlohmann::json roll = app_member(admin, "roll");
  EXPECT_EQ(roll.value("state", ""), "failed");
  EXPECT_EQ(roll.value("failure", nlohmann::json::object()).value("cause", ""), "replacement_exited");

  // The old instances serve on, unchanged; the failed replacement is stopped, not restarted.
  EXPECT_TRUE(eventually([&] { return app_instances(admin).size() == 3; }, 5s)) << app_instances(admin).dump();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(app_instances(admin).size(), 3u) << app_instances(admin).dump();
  EXPECT_EQ(pids_in_state(app_instances(admin), "ready"), before);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(hello(front).empty());
  EXPECT_TRUE(events_of(admin, "roll_done").empty());
}

TEST(ManagedRoll, AReloadThatChangesTheEnvRollsThePool) {
  const std::string ports = port_range();
  FulcrumProcess fulcrum(scaling_config(three_instances(ports)), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 3; }, 10s))
      << app_instances(admin).dump();
  const std::set<pid_t> before = pid_set(pids_in_state(app_instances(admin), "ready"));

  std::ofstream(fulcrum.config_path(), std::ios::trunc)
      << scaling_config(three_instances(ports, "      env: { APP_RELEASE: \"2\" }\n"));
  const AdminReply reload = scaling_call(admin, "POST", "/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;

  ASSERT_TRUE(eventually([&] { return events_of(admin, "roll_done").size() == 1; }, 20s))
      << app_pool(admin).dump() << "\n" << app_instances(admin).dump();
  EXPECT_EQ(events_of(admin, "roll_started")[0].value("reason", ""), "reload");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 3 &&
                                      app_instances(admin).size() == 3; }, 10s));
  for (const auto& [name, pid] : pids_in_state(app_instances(admin), "ready")) {
    EXPECT_EQ(before.count(pid), 0u) << name;
  }
}



TEST(ManagedRoll, AReplacementNotReadyWithinReadyTimeoutFailsTheRoll) {
  const std::string ports = port_range();
  auto two = [&](const std::string& command) {
    return "      command: " + command + "\n"
           "      ports: " + ports + "\n"
           "      instances: 2\n"
           "      ready: { tcp: {}, timeout: 1s }\n";
  };
  FulcrumProcess fulcrum(scaling_config(two(server_command())), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 2; }, 10s));
  const auto before = pids_in_state(app_instances(admin), "ready");

  // The new program takes 5 s before it listens: its replacement is killed at the 1 s ready timeout.
  std::ofstream(fulcrum.config_path(), std::ios::trunc)
      << scaling_config(two(server_command("--listen-after-ms, \"5000\"")));
  ASSERT_EQ(scaling_call(admin, "POST", "/api/reload").status, 200);
  ASSERT_TRUE(eventually([&] { return events_of(admin, "roll_failed").size() == 1; }, 10s)) << app_pool(admin).dump();
  const auto failed = events_of(admin, "roll_failed")[0];
  EXPECT_EQ(failed.value("cause", ""), "replacement_timed_out") << failed.dump();
  EXPECT_EQ(failed.value("detail", ""), "not ready within 1s");
  EXPECT_TRUE(eventually([&] { return app_instances(admin).size() == 2; }, 5s)) << app_instances(admin).dump();
  EXPECT_EQ(pids_in_state(app_instances(admin), "ready"), before);
}

}  // namespace
}  // namespace fulcrum::test::managed
