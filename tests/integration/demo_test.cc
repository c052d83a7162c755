// `fulcrum demo`, what `make run` starts: its own three backends behind HTTP, TCP and the admin
// listener, failover when one of them is killed, and no backend left behind when it stops.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// The demo derives its TCP port (+1) and the dashboard's (+10) from the HTTP one.
struct DemoPorts {
  int http = 0;
  std::string address(int offset) const { return "127.0.0.1:" + std::to_string(http + offset); }
};

// The pids the demo prints for its backends ("  backend-1  127.0.0.1:PORT  pid N").
std::map<std::string, pid_t> backend_pids(const std::string& output) {
  std::map<std::string, pid_t> pids;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name, address, pid_word;
    pid_t pid = 0;
    if (words >> name >> address >> pid_word >> pid && name.rfind("backend-", 0) == 0 && pid_word == "pid") {
      pids[name] = pid;
    }
  }
  return pids;
}

// Alive and not a zombie: a reaped or exited process does not count.
bool process_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_text, comm, state;
  return static_cast<bool>(stat >> pid_text >> comm >> state) && state != "Z" && state != "X";
}

std::optional<HttpResponse> get_once(const std::string& address, const std::string& path = "/") {
  auto connection = HttpConnection::connect(address);
  if (!connection.valid()) return std::nullopt;
  return connection.get(path, "Connection: close\r\n");
}

TEST(Demo, BalancesItsOwnBackendsFailsOverAndStopsThemAll) {
  // Three ports in a row that are free now; the demo binds them itself.
  DemoPorts ports;
  ports.http = std::stoi(reserve_loopback_address().substr(10));
  Process demo({fulcrum_binary(), "demo", "--listen", ports.address(0)});
  ASSERT_TRUE(demo.wait_for_line([](const std::string& l) { return l.find("listener=admin") != std::string::npos; }, 10s))
      << demo.all_output();
  const auto pids = backend_pids(demo.all_output());
  ASSERT_EQ(pids.size(), 3u) << demo.all_output();

  // Round robin over the three, each request on a new connection. Each worker keeps its own
  // cursor and a new connection may land on either, but of 6 requests one worker gets at least 3:
  // a full turn.
  std::map<std::string, int> answered;
  for (int i = 0; i < 6; ++i) {
    const auto response = get_once(ports.address(0));
    ASSERT_TRUE(response && response->status == 200) << "request " << i;
    ++answered[response->body];
  }
  EXPECT_EQ(answered.size(), 3u);

  // TCP: a backend echoes the line, naming itself.
  auto tcp = Client::connect(ports.address(1));
  ASSERT_TRUE(tcp.valid());
  ASSERT_TRUE(tcp.send_all("ping\n"));
  const std::string echo = tcp.read_until("\n");
  EXPECT_NE(echo.find("ping"), std::string::npos) << echo;
  EXPECT_EQ(echo.rfind("[backend-", 0), 0u) << echo;
  tcp.close();

  // The dashboard's listener serves metrics.
  const auto metrics = get_once(ports.address(10), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find("fulcrum_"), std::string::npos);

  // Kill one backend: not one request fails.
  ASSERT_EQ(kill(pids.at("backend-1"), SIGKILL), 0);
  for (int i = 0; i < 30; ++i) {
    const auto response = get_once(ports.address(0));
    ASSERT_TRUE(response) << "request " << i << " after the kill got no answer";
    EXPECT_EQ(response->status, 200) << "request " << i << ": " << response->body;
    EXPECT_EQ(response->body.find("backend-1"), std::string::npos) << response->body;
  }

  // SIGTERM: the demo exits 0 and takes its backends with it.
  demo.signal(SIGTERM);
  EXPECT_EQ(demo.wait_exit(35s), 0) << demo.all_output();
  EXPECT_TRUE(eventually([&] { return !process_running(pids.at("backend-2")) && !process_running(pids.at("backend-3")); },
                         5s))
      << "a demo backend outlived the demo";
}

}  // namespace
}  // namespace fulcrum::test
