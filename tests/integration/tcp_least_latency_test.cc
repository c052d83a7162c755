// least_latency in a tcp pool: a backend's latency is its connect time, or the time to its first
// byte when it speaks first. Of a backend that greets at once and one that takes 150 ms to, the
// fast one gets nearly every connection once both were tried.
#include <gtest/gtest.h>

#include <string>

#include "support/fulcrum_process.h"
#include "support/scripted_backend.h"
#include "support/sockets.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;
using Step = ScriptedBackend::Step;

TEST(TcpLeastLatency, TheBackendThatSpeaksFirstSoonerGetsTheConnections) {
  ScriptedBackend fast({Step::send("fast\n"), Step::echo()});
  ScriptedBackend slow({Step::pause(150ms), Step::send("slow\n"), Step::echo()});
  TcpSetup setup;
  setup.backends = {fast.address(), slow.address()};
  setup.strategy = "least_latency";
  FulcrumProcess fulcrum(tcp_config(setup));

  int to_fast = 0, to_slow = 0;
  for (int i = 0; i < 40; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    const std::string greeting = client.read_until("\n", 2s);
    if (greeting == "fast\n") ++to_fast;
    else if (greeting == "slow\n") ++to_slow;
    else ADD_FAILURE() << "connection " << i << " got '" << greeting << "'";
  }
  // Each may be tried while the other's latency is still unknown; after that the slow one loses
  // every draw of two (its latency stays far above the fast one's for the test's short run).
  EXPECT_GE(to_fast, 36) << "fast " << to_fast << ", slow " << to_slow;
  EXPECT_GE(to_slow, 1) << "the slow backend was never tried";
}

}  // namespace
}  // namespace fulcrum::test
