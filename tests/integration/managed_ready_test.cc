// When a managed instance counts as ready: with `ready: notify`, only once it sent READY=1 on its
// NOTIFY_SOCKET (systemd's protocol), however early it listens; one that never says so is killed
// at ready.timeout and started again. And an external launcher (a container CLI; here a stand-in
// script that behaves like `docker run`): its words substituted, its readiness waited for, its
// stop signal proxied to the "container".
#include <signal.h>

#include <fstream>
#include <sstream>

#include "integration/managed_test_config.h"

namespace fulcrum::test::managed {
namespace {

TEST(ManagedReady, NotifyWaitsForReadyEvenThoughThePortListensEarlier) {
  FulcrumProcess fulcrum(managed_config("      command: " + server_command("--notify-after-ms, \"700\"") + "\n"
                                        "      ports: " + port_range() + "\n"
                                        "      instances: 1\n"
                                        "      ready: { notify: {}, timeout: 5s }\n"),
                         2);
  const std::string admin = fulcrum.address("admin");
  const std::string web = fulcrum.address("web");
  // It listens at once but has not said READY=1: starting, not a member, so the pool has nothing.
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "starting") == 1; }, 5s));
  const nlohmann::json starting = instances(admin);
  const std::string port = std::to_string(starting[0]["port"].get<int>());
  ASSERT_TRUE(eventually([&] { return HttpConnection::connect("127.0.0.1:" + port).valid(); }, 5s));
  if (count_in_state(instances(admin), "starting") == 1) {
    int status = 0;
    hello(web, &status);
    EXPECT_EQ(status, 503) << "served before READY=1";
  }
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "ready") == 1; }, 5s));
  const auto ready = recent_events(admin, "instance_ready");
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_GE(ready[0].value("ready_ms", 0), 700);
  EXPECT_TRUE(eventually([&] { return hello(web) == "hello from app-0"; }, 5s));
}

TEST(ManagedReady, AnInstanceThatNeverSaysReadyIsKilledAtReadyTimeoutAndRetried) {
  FulcrumProcess fulcrum(managed_config("      command: " + server_command() + "\n"
                                        "      ports: " + port_range() + "\n"
                                        "      instances: 1\n"
                                        "      ready: { notify: {}, timeout: 400ms }\n"
                                        "      restart: { backoff: 100ms..1s }\n"),
                         2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return !recent_events(admin, "instance_restarting").empty(); }, 5s));
  const auto exits = recent_events(admin, "instance_exited");
  ASSERT_FALSE(exits.empty());
  EXPECT_EQ(exits[0].value("reason", ""), "not ready within ready.timeout");
  EXPECT_EQ(exits[0].value("signal", ""), "SIGKILL");
  EXPECT_TRUE(recent_events(admin, "instance_ready").empty());
}

TEST(ManagedLauncher, AContainerCliStandInGetsItsWordsIsWaitedForAndIsStoppedBySignal) {
  const std::string log = write_temp_file("fake_docker.log", "");
  FulcrumProcess fulcrum(managed_config(std::string("      command: [\"") + FAKE_DOCKER +
                                            "\", run, --rm, --name, \"{pool}-{index}\", -p, \"{port}:80\", "
                                            "demo-image]\n"
                                            "      ports: " + port_range() + "\n"
                                            "      env: { FAKE_DOCKER_LOG: \"" + log + "\", MANAGED_TEST_SERVER: \"" +
                                            MANAGED_TEST_SERVER + "\" }\n"
                                            "      instances: 2\n"
                                            "      ready: { http: { path: / }, timeout: 10s }\n"
                                            "      stop: { signal: SIGTERM, timeout: 5s }\n"),
                         2);
  const std::string admin = fulcrum.address("admin");
  const std::string web = fulcrum.address("web");
  ASSERT_TRUE(eventually([&] { return count_in_state(instances(admin), "ready") == 2; }, 10s))
      << fulcrum.process().all_output();
  // Ready only once the "container" listened, after its pull.
  for (const auto& event : recent_events(admin, "instance_ready")) EXPECT_GE(event.value("ready_ms", 0), 400);
  EXPECT_EQ(hello(web), "hello from demo-image");

  // Each instance's words: its name and its own port published.
  std::set<std::string> expected;
  for (const auto& instance : instances(admin)) {
    expected.insert("run name=" + instance["name"].get<std::string>() + " publish=" +
                    std::to_string(instance["port"].get<int>()) + ":80 image=demo-image");
  }
  const auto read_log = [&] {
    std::ifstream file(log);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  };
  const std::string started = read_log();
  for (const auto& line : expected) EXPECT_NE(started.find(line + "\n"), std::string::npos) << line << "\n" << started;

  // Stopping Fulcrum: the CLI gets SIGTERM and stops its "container" (docker's signal proxy).
  const std::set<pid_t> groups = instance_pids(instances(admin));
  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(15s), 0);
  const std::string stopped = read_log();
  std::size_t terms = 0, stops = 0;
  for (std::size_t at = stopped.find("got SIGTERM"); at != std::string::npos; at = stopped.find("got SIGTERM", at + 1)) ++terms;
  for (std::size_t at = stopped.find("container stopped"); at != std::string::npos;
       at = stopped.find("container stopped", at + 1))
    ++stops;
  EXPECT_EQ(terms, 2u) << stopped;
  EXPECT_EQ(stops, 2u) << stopped;
  EXPECT_TRUE(alive_in_groups(groups).empty());
}

}  // namespace
}  // namespace fulcrum::test::managed
