// Start-up errors, the CLI's exit codes, max_connections, and the SIGTERM drain.
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <thread>

#include "net/address.h"
#include "net/socket.h"
#include "support/dns_server.h"
#include "support/fulcrum_process.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

int run_to_exit(std::vector<std::string> args, std::string* output = nullptr) {
  args.insert(args.begin(), fulcrum_binary());
  Process process(args);
  auto code = process.wait_exit(10s);
  if (output) *output = process.all_output();
  return code.value_or(-1);
}

TEST(Cli, CheckAcceptsAGoodConfigAndRejectsABadOneWithExit2) {
  const auto good = write_temp_file("good.yaml", tcp_config({.backends = {"127.0.0.1:7001"}}));
  std::string output;
  EXPECT_EQ(run_to_exit({"check", "-c", good}, &output), 0) << output;

  const auto bad = write_temp_file("bad.yaml",
                                   "listeners:\n"
                                   "  - name: front\n"
                                   "    listen: 127.0.0.1:99999\n"
                                   "    pool: missing\n"
                                   "pools:\n"
                                   "  app:\n"
                                   "    strategy: fastest\n"
                                   "    backends: []\n");
  EXPECT_EQ(run_to_exit({"check", "-c", bad}, &output), 2);
  // Every error at once, each naming file, line and key.
  EXPECT_NE(output.find(bad + ":3: listeners[0].listen:"), std::string::npos) << output;
  EXPECT_NE(output.find(bad + ":4: listeners[0].pool:"), std::string::npos) << output;
  EXPECT_NE(output.find(bad + ":7: pools.app.strategy:"), std::string::npos) << output;
  EXPECT_NE(output.find(bad + ":8: pools.app.backends:"), std::string::npos) << output;
  // `run` refuses it the same way.
  EXPECT_EQ(run_to_exit({"run", "-c", bad}), 2);
  EXPECT_EQ(run_to_exit({"check", "-c", "/nonexistent/fulcrum.yaml"}), 2);
}

TEST(Cli, VersionAndHelp) {
  std::string output;
  EXPECT_EQ(run_to_exit({"version"}, &output), 0);
  EXPECT_NE(output.find("fulcrum 0."), std::string::npos) << output;
  EXPECT_EQ(run_to_exit({"--help"}, &output), 0);
  EXPECT_NE(output.find("run"), std::string::npos);
  EXPECT_NE(output.find("check"), std::string::npos);
  EXPECT_EQ(run_to_exit({"no-such-command"}), 2);
}

TEST(Startup, APortInUseIsAClearErrorNotACrash) {
  auto address = net::Address::parse_numeric("127.0.0.1:0");
  std::string error;
  net::UniqueFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(holder.get(), address->data(), address->size()), 0);
  ASSERT_EQ(::listen(holder.get(), 1), 0);
  const auto taken = net::Address::local_of(holder.get()).to_string();
  const auto config = write_temp_file("busy.yaml", tcp_config({.backends = {"127.0.0.1:7001"}, .listen = taken}));
  std::string output;
  EXPECT_EQ(run_to_exit({"run", "-c", config}, &output), 1);
  EXPECT_NE(output.find("cannot bind " + taken + ": Address already in use"), std::string::npos) << output;
}

TEST(Startup, EveryListenerSaysWhereItListensHoweverMany) {
  // The start-up lines are a burst by construction: the log's flood limit must not eat them.
  TestBackend backend("b");
  std::string yaml = "workers: 1\nlisteners:\n";
  constexpr int kListeners = 40;
  for (int i = 0; i < kListeners; ++i) {
    yaml += "  - { name: l" + std::to_string(i) + ", listen: 127.0.0.1:0, mode: tcp, pool: app }\n";
  }
  yaml += "pools:\n  app:\n    backends: [" + backend.address() + "]\n";
  FulcrumProcess fulcrum(yaml, kListeners);
  for (int i = 0; i < kListeners; ++i) EXPECT_FALSE(fulcrum.address("l" + std::to_string(i)).empty()) << i;
}

TEST(Startup, AnUnresolvableBackendHostDoesNotStopTheStart) {
  // The name may resolve later (DNS is a membership source, retried): Fulcrum starts, says why the
  // pool is empty, and answers clients with the listener's `unavailable` meanwhile.
  DnsServer dns;  // knows no name: NXDOMAIN
  FulcrumProcess fulcrum(tcp_config({.backends = {"no-such-host.invalid:80"},
                                     .listener_extra = "    unavailable: \"busy\\n\"\n",
                                     .top_extra = "resolver: {servers: [\"" + dns.address() + "\"]}\n"}));
  ASSERT_FALSE(fulcrum.address("front").empty());
  EXPECT_EQ(fulcrum.count_log("cannot resolve host name"), 1u);
  auto client = Client::connect(fulcrum.address("front"));
  EXPECT_EQ(client.read_until("\n"), "busy\n");
}

TEST(Limits, MaxConnectionsLeavesFurtherClientsWaiting) {
  TestBackend backend("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .listener_extra = "    max_connections: 2\n"}));
  auto first = Client::connect(fulcrum.address("front"));
  auto second = Client::connect(fulcrum.address("front"));
  ASSERT_EQ(first.read_until("\n"), "b\n");
  ASSERT_EQ(second.read_until("\n"), "b\n");
  // The kernel completes the handshake (backlog) but Fulcrum does not accept: no greeting.
  auto third = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(third.valid());
  EXPECT_EQ(third.read_until("\n", 500ms), "");
  EXPECT_EQ(backend.accepted(), 2u);
  first.close();
  EXPECT_EQ(third.read_until("\n", 3s), "b\n") << "a freed slot admits the waiting client";
}

TEST(Drain, SigtermLetsOpenConnectionsFinishAndRefusesNewOnes) {
  TestBackend backend("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .top_extra = "drain_timeout: 10s\n"}));
  auto open = Client::connect(fulcrum.address("front"));
  ASSERT_EQ(open.read_until("\n"), "b\n");
  fulcrum.process().signal(SIGTERM);
  ASSERT_TRUE(fulcrum.process().wait_for_line([](const std::string& l) { return l.find("draining") != std::string::npos; }, 5s));
  // The listener is closed: new clients are refused.
  EXPECT_FALSE(Client::connect(fulcrum.address("front"), 500ms).valid());
  // The open connection still relays.
  ASSERT_TRUE(open.send_all("still here\n"));
  EXPECT_EQ(open.read_exactly(11), "still here\n");
  EXPECT_TRUE(fulcrum.process().running());
  open.close();
  EXPECT_EQ(fulcrum.process().wait_exit(5s), 0) << "exits 0 once the last connection is done";
}

TEST(Drain, ClosesWhatIsLeftAtTheDrainTimeout) {
  TestBackend backend("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .top_extra = "drain_timeout: 500ms\n"}));
  auto open = Client::connect(fulcrum.address("front"));
  ASSERT_EQ(open.read_until("\n"), "b\n");
  fulcrum.process().signal(SIGTERM);
  EXPECT_TRUE(open.closed_by_peer(5s));
  EXPECT_EQ(fulcrum.process().wait_exit(5s), 0);
}

}  // namespace
}  // namespace fulcrum::test
