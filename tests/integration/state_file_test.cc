// admin.state_file with the real binary: runtime changes survive a restart, the configuration wins
// for an address it names, and a corrupt file stops the start with its name and is left as it was.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fulcrum_process.h"
#include "support/http_client.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

std::string config_yaml(const std::string& a, const std::string& state_file) {
  return "workers: 1\n"
         "drain_timeout: 1s\n"
         "listeners:\n"
         "  - { name: app, listen: 127.0.0.1:0, pool: app }\n"
         "admin: { listen: 127.0.0.1:0, token: sekrit, state_file: " + state_file + " }\n"
         "pools:\n"
         "  app:\n"
         "    backends:\n"
         "      - { address: " + a + ", name: a }\n";
}

std::optional<HttpResponse> admin_request(const std::string& admin, const std::string& method, const std::string& path,
                                          const std::string& body = "") {
  auto connection = HttpConnection::connect(admin);
  connection.send(method + " " + path + " HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer sekrit\r\n" +
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  return connection.read_response();
}

nlohmann::json backends_of(const std::string& admin) {
  const auto response = admin_request(admin, "GET", "/api/pools/app/backends");
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(StateFile, RuntimeChangesSurviveARestart) {
  TestBackend a("a"), b("b");
  const std::string state_file = write_temp_file("state.json", "");
  std::remove(state_file.c_str());  // a first start has none
  const std::string yaml = config_yaml(a.address(), state_file);
  {
    FulcrumProcess fulcrum(yaml, 2);
    const std::string admin = fulcrum.address("admin");
    const auto added = admin_request(admin, "POST", "/api/pools/app/backends",
                                     R"({"address": ")" + b.address() + R"(", "weight": 4, "name": "b"})");
    ASSERT_TRUE(added);
    ASSERT_EQ(added->status, 201) << added->body;
    const auto drained = admin_request(admin, "PATCH", "/api/pools/app/backends/a", R"({"state": "drain"})");
    ASSERT_TRUE(drained);
    ASSERT_EQ(drained->status, 200) << drained->body;
    const auto saved = nlohmann::json::parse(read_file(state_file));
    ASSERT_EQ(saved["pools"]["app"].size(), 2u) << saved.dump();
    fulcrum.process().signal(SIGTERM);
    ASSERT_EQ(fulcrum.process().wait_exit(std::chrono::seconds(10)), 0);
  }
  FulcrumProcess restarted(yaml, 2);
  const auto backends = backends_of(restarted.address("admin"));
  ASSERT_EQ(backends.size(), 2u) << backends.dump();
  EXPECT_EQ(backends[0]["name"], "a");
  EXPECT_EQ(backends[0]["admin_state"], "drain");
  EXPECT_EQ(backends[0]["source"], "config");
  EXPECT_EQ(backends[1]["name"], "b");
  EXPECT_EQ(backends[1]["address"], b.address());
  EXPECT_EQ(backends[1]["weight"], 4);
  EXPECT_EQ(backends[1]["source"], "api");
  // And traffic follows: a drained, b serves.
  for (int i = 0; i < 4; ++i) {
    auto client = Client::connect(restarted.address("app"));
    EXPECT_EQ(client.read_until("\n"), "b\n");
  }
}

TEST(StateFile, TheConfigurationWinsForAnAddressItNames) {
  TestBackend a("a");
  const std::string state_file = write_temp_file(
      "state.json", R"({"version": 1, "pools": {"app": [)"
                    R"({"address": ")" + a.address() + R"(", "weight": 9, "admin_state": "maint", "source": "api"}]}})");
  FulcrumProcess fulcrum(config_yaml(a.address(), state_file), 2);
  const auto backends = backends_of(fulcrum.address("admin"));
  ASSERT_EQ(backends.size(), 1u) << backends.dump();
  EXPECT_EQ(backends[0]["weight"], 1);  // the configured weight
  EXPECT_EQ(backends[0]["source"], "config");
  EXPECT_EQ(backends[0]["admin_state"], "maint");  // the saved state: the file names none
  EXPECT_GE(fulcrum.count_log("state file: the configuration's weight wins"), 1u);
}

TEST(StateFile, ACorruptFileStopsTheStartAndIsLeftAsItWas) {
  TestBackend a("a");
  const std::string corrupt = "{\"version\": 1, \"pools\": {\"app\": [ {\"address\": ";
  const std::string state_file = write_temp_file("state.json", corrupt);
  const std::string config = write_temp_file("fulcrum.yaml", config_yaml(a.address(), state_file));
  Process process({fulcrum_binary(), "run", "-c", config});
  const auto code = process.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
  process.read_output();
  const std::string output = process.all_output();
  EXPECT_NE(output.find("admin.state_file: " + state_file + ": not valid JSON"), std::string::npos) << output;
  EXPECT_EQ(read_file(state_file), corrupt);
}

}  // namespace
}  // namespace fulcrum::test
