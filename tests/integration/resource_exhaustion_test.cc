// Resource exhaustion over the real binary: out of file descriptors (a low RLIMIT_NOFILE set on
// the running process with prlimit(2), since fulcrum raises its soft limit to the hard one at
// start), the listener's max_connections, the upstream idle pool's max_idle, and a TCP relay to a
// receiver that stops reading (a full pipe).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http_test_config.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

/// Descriptors process `pid` has open.
int open_descriptors(pid_t pid) {
  int n = 0;
  if (DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (dirent* entry = readdir(dir)) n += entry->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}

/// CPU time (user + system) process `pid` has used, from /proc/PID/stat.
std::chrono::milliseconds cpu_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) {
      stime = std::stoul(field);
      break;
    }
  }
  return std::chrono::milliseconds((utime + stime) * 1000 / static_cast<unsigned long>(sysconf(_SC_CLK_TCK)));
}

/// Log lines (JSON) whose message starts with `prefix`.
std::size_t count_lines_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& line : lines) n += line.find("\"msg\":\"" + prefix) != std::string::npos;
  return n;
}

/// Lets the process run for `period` while its output is read (so that a log flood cannot block
/// it on a full pipe): bounded in time whatever it writes.
void watch_for(Process& process, std::chrono::milliseconds period) {
  process.wait_for_line([](const std::string&) { return false; }, period);
}

std::optional<HttpResponse> admin_get(const std::string& admin, const std::string& path) {
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid()) return std::nullopt;
  return connection.get(path, "", "admin");
}

TEST(ResourceExhaustion, OutOfDescriptorsPausesAcceptingAndSparesTheBackend) {
  HttpBackend backend("a");
  const std::string events_file = write_temp_file("events.jsonl", "");
  HttpSetup setup{.backends = {backend.address()}, .workers = 1};
  setup.top_extra = "admin: {listen: \"127.0.0.1:0\"}\nevents: {file: \"" + events_file + "\"}\n";
  setup.pool_extra = "    max_idle: 0\n";  // every request connects: one runs out of descriptors
  FulcrumProcess fulcrum(http_config(setup), 2);
  const pid_t pid = fulcrum.process().pid();
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(front.empty());
  ASSERT_FALSE(admin.empty());

  // A client accepted while descriptors remain, which will ask for something once they are gone.
  auto early = HttpConnection::connect(front);
  ASSERT_TRUE(early.valid());
  auto first = early.get("/");
  ASSERT_TRUE(first && first->status == 200);

  // Ten descriptors to spare: most of the 100 clients wait in the backlog, unaccepted.
  const int spare = 10;
  const rlimit limit{static_cast<rlim_t>(open_descriptors(pid) + spare), static_cast<rlim_t>(open_descriptors(pid) + spare)};
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &limit, nullptr), 0) << std::strerror(errno);
  std::vector<Client> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(Client::connect(front));
    ASSERT_TRUE(idle.back().valid()) << "client " << i;  // the kernel completes the handshake
  }
  watch_for(fulcrum.process(), 500ms);

  // With descriptors exhausted and clients waiting: a few lines, not a flood; little CPU, not a spin.
  const auto cpu_before = cpu_time(pid);
  watch_for(fulcrum.process(), 2000ms);
  const auto cpu_used = cpu_time(pid) - cpu_before;
  const std::size_t accept_lines = count_lines_starting(fulcrum.process().lines(), "accept");
  const bool spinning = cpu_used > 600ms || accept_lines > 10;
  EXPECT_LE(cpu_used, 600ms) << "CPU time over 2 s with accepting blocked (generous: a spin takes ~2000 ms)";
  EXPECT_LE(accept_lines, 10u) << "log lines about accept failures in 2.5 s";
  if (spinning) {
    fulcrum.process().signal(SIGKILL);  // do not read a flood until the end of time
    fulcrum.process().wait_exit(5s);
    return;
  }

  // A request on the connection accepted before: its connect to the backend finds no descriptor.
  auto answer = early.get("/");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503);
  early = {};

  // Clients leave: descriptors return, accepting resumes, the backend serves (it never was down).
  idle.clear();
  bool served = eventually([&] {
    auto response = HttpConnection::connect(front).get("/");
    return response && response->status == 200;
  }, 5s);
  EXPECT_TRUE(served) << "not serving again after clients left";
  const auto pools = admin_get(admin, "/api/pools/app");
  ASSERT_TRUE(pools);
  const auto json = nlohmann::json::parse(pools->body);
  EXPECT_EQ(json["backends"][0]["state"], "healthy") << pools->body;
  EXPECT_EQ(json["backends"][0]["connect_errors"], 0) << pools->body;
  const auto metrics = admin_get(admin, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("fulcrum_worker_accept_pauses_total{worker=\"0\"} "), std::string::npos);
  EXPECT_EQ(metrics->body.find("fulcrum_worker_accept_pauses_total{worker=\"0\"} 0\n"), std::string::npos)
      << "the pause is counted";
  EXPECT_EQ(metrics->body.find("fulcrum_worker_local_resource_errors_total{worker=\"0\"} 0\n"), std::string::npos)
      << "the failed connect is counted as a local failure";

  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
  EXPECT_EQ(count_lines_starting(fulcrum.process().lines(), "accept paused"), 1u) << "said once per episode";
  EXPECT_GE(count_lines_starting(fulcrum.process().lines(), "accept resumed"), 1u);

  // Both failures are `error` events.
  std::ifstream in(events_file);
  bool accept_event = false, connect_event = false;
  for (std::string line; std::getline(in, line);) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object() || event.value("event", "") != "error") continue;
    accept_event |= event.value("phase", "") == "accept";
    connect_event |= event.value("phase", "") == "connect";
  }
  EXPECT_TRUE(accept_event) << "no error event for the accept pause";
  EXPECT_TRUE(connect_event) << "no error event for the failed connect";
}

}  // namespace
}  // namespace fulcrum::test
