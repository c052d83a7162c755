// A pool that takes registrations may start with no backend at all: its clients get the
// listener's answer for "nobody to serve you" (http 503, tcp the `unavailable` text), never a hang.
#include <gtest/gtest.h>

#include "support/fulcrum_process.h"
#include "support/http_client.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

constexpr const char* kYaml =
    "workers: 2\n"
    "listeners:\n"
    "  - { name: web, listen: 127.0.0.1:0, mode: http, pool: waiting }\n"
    "  - { name: raw, listen: 127.0.0.1:0, pool: waiting, unavailable: \"nobody yet\\n\" }\n"
    "registration: { listen: 127.0.0.1:0, token: t0ken }\n"
    "pools:\n"
    "  waiting:\n"
    "    registration: { ttl: 5s }\n"
    "    backends: []\n";

TEST(EmptyPool, HttpClientsGet503) {
  FulcrumProcess fulcrum(kYaml, 2);
  for (int i = 0; i < 3; ++i) {
    auto connection = HttpConnection::connect(fulcrum.address("web"));
    const auto response = connection.get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 503);
  }
}

TEST(EmptyPool, TcpClientsGetTheUnavailableText) {
  FulcrumProcess fulcrum(kYaml, 2);
  auto client = Client::connect(fulcrum.address("raw"));
  ASSERT_TRUE(client.valid());
  bool timed_out = false;
  EXPECT_EQ(client.read_to_eof(std::chrono::seconds(5), &timed_out), "nobody yet\n");
  EXPECT_FALSE(timed_out);
}

}  // namespace
}  // namespace fulcrum::test
