// TCP pools changed at run time (issue 11 §4): drain (PATCH state) and remove (DELETE) a backend
// while long-lived connections to it are open. They go on, bytes flowing both ways, until they end
// (for a removal, also after the backend has left the pool at drain_timeout); every new connection
// goes to the other backend. The backends greet each connection with their name, then echo.
#include <gtest/gtest.h>

#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "tcp-live-token";

struct Greeted {
  Client client;
  std::string backend;
};

/// A connection through the proxy and the name its backend greeted it with.
Greeted open(const std::string& front) {
  Greeted greeted{Client::connect(front), ""};
  if (!greeted.client.valid()) return greeted;
  std::string line = greeted.client.read_until("\n");
  if (!line.empty() && line.back() == '\n') line.pop_back();
  greeted.backend = line;
  return greeted;
}

/// Sends `bytes` and reads them back: the connection carries data both ways.
bool echoes(Client& client, const std::string& bytes) {
  return client.send_all(bytes) && client.read_exactly(bytes.size(), 5s) == bytes;
}

bool listed(const std::string& admin, const std::string& address) {
  for (const auto& member : pool_members(admin, "app", kToken)) {
    if (member.value("address", "") == address) return true;
  }
  return false;
}

/// Long-lived connections, at least two of them to b (at most 16 opened).
void open_until_two_at_b(const std::string& front, std::vector<Greeted>& at_a, std::vector<Greeted>& at_b) {
  for (int i = 0; i < 16 && at_b.size() < 2; ++i) {
    Greeted greeted = open(front);
    ASSERT_TRUE(greeted.client.valid());
    (greeted.backend == "b" ? at_b : at_a).push_back(std::move(greeted));
  }
  ASSERT_EQ(at_b.size(), 2u) << "round robin never chose b";
}

void out_of_rotation_scenario(const std::string& method, const std::string& body, int status,
                              const std::string& top_extra) {
  TestBackend a("a"), b("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address()},
                                     .top_extra = top_extra + "admin: { listen: 127.0.0.1:0, token: " + kToken + " }\n"}),
                         2);
  const std::string front = fulcrum.address("front"), admin = fulcrum.address("admin");
  std::vector<Greeted> at_a, at_b;
  open_until_two_at_b(front, at_a, at_b);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_TRUE(eventually([&] { return b.open_connections() == 2; }, 2s));

  const AdminReply reply = admin_call(admin, method, "/api/pools/app/backends/" + b.address(), body, kToken);
  ASSERT_EQ(reply.status, status) << reply.body;

  // The connections to b go on, both ways, with a payload larger than one socket buffer.
  const std::string big(256 * 1024, 'x');
  for (std::size_t i = 0; i < at_b.size(); ++i) {
    EXPECT_TRUE(echoes(at_b[i].client, "after the change " + std::to_string(i) + "\n"));
    EXPECT_TRUE(echoes(at_b[i].client, big));
  }
  // New connections all go to a.
  for (int i = 0; i < 8; ++i) {
    Greeted greeted = open(front);
    EXPECT_EQ(greeted.backend, "a") << "new connection " << i;
    EXPECT_TRUE(echoes(greeted.client, "new\n"));
  }
  EXPECT_EQ(b.accepted(), 2u);

  if (method == "DELETE") {
    // The drain times out (drain_timeout): b leaves the pool with its connections still open, and
    // they still carry bytes.
    ASSERT_TRUE(eventually([&] { return !listed(admin, b.address()); }, 5s));
    EXPECT_EQ(b.open_connections(), 2);
    for (auto& greeted : at_b) EXPECT_TRUE(echoes(greeted.client, "after it left\n"));
  } else {
    EXPECT_TRUE(listed(admin, b.address()));
  }
  // They end when their client ends them: FIN passed, the rest echoed, then the backend's FIN.
  for (auto& greeted : at_b) {
    ASSERT_TRUE(greeted.client.send_all("last words\n"));
    greeted.client.shutdown_write();
    bool timed_out = false;
    EXPECT_EQ(greeted.client.read_to_eof(5s, &timed_out), "last words\n");
    EXPECT_FALSE(timed_out);
  }
  EXPECT_TRUE(eventually([&] { return b.open_connections() == 0; }, 3s));
  for (auto& greeted : at_a) EXPECT_TRUE(echoes(greeted.client, "a is untouched\n"));
}

TEST(LivePoolTcp, DrainedBackendsConnectionsGoOnUntilTheyEndAndNewOnesGoElsewhere) {
  out_of_rotation_scenario("PATCH", R"({"state":"drain"})", 200, "");
}

TEST(LivePoolTcp, RemovedBackendsConnectionsGoOnPastItsDepartureAndNewOnesGoElsewhere) {
  out_of_rotation_scenario("DELETE", "", 202, "drain_timeout: 1s\n");
}

}  // namespace
}  // namespace fulcrum::test
