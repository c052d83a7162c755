// DNS as a membership source, end to end: a backend given by host name stands for every record of
// that name, and the pool follows the answers of a DNS server the test runs on loopback
// (support/dns_server.h, which Fulcrum is pointed at with `resolver.servers`): records added are
// served, records gone are drained and leave, a TTL shorter than `resolve_interval` is followed, a
// name unresolvable at start does not stop the start (503 until it resolves), and `fulcrum check`
// warns about such a name without failing.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "fulcrum/balancer.h"
#include "support/dns_server.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/process.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

std::string port_of(const std::string& address) { return address.substr(address.rfind(':') + 1); }

Config dns_config(const DnsServer& dns, const std::string& backend, const std::string& name = "",
                  Duration interval = 100ms) {
  Config config;
  config.workers = 2;
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  config.resolver.servers = {dns.address()};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  PoolConfig pool{.name = "api"};
  pool.resolve_interval = interval;
  pool.backends.push_back({.address = backend, .name = name});
  config.pools.push_back(pool);
  return config;
}

/// The status and answering backend of one request on a new connection (0 when none came).
std::pair<int, std::string> request(const std::string& front) {
  auto connection = HttpConnection::connect(front);
  auto response = connection.get("/");
  if (!response) return {0, ""};
  return {response->status, response->backend()};
}

/// The backends that answered `count` requests (all must be 200s, else "!<status>" is included).
std::set<std::string> answering(const std::string& front, int count = 6) {
  std::set<std::string> seen;
  for (int i = 0; i < count; ++i) {
    const auto [status, backend] = request(front);
    seen.insert(status == 200 ? backend : "!" + std::to_string(status));
  }
  return seen;
}

/// The pool's backends as GET /api/pools/api shows them: address → (name, source).
std::map<std::string, std::pair<std::string, std::string>> members(const std::string& admin) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  auto connection = HttpConnection::connect(admin);
  auto response = connection.get("/api/pools/api", "", "admin");
  if (!response || response->status != 200) {
    ADD_FAILURE() << "GET /api/pools/api: " << (response ? response->head + response->body : "no answer");
    return out;
  }
  const auto pool = nlohmann::json::parse(response->body);
  for (const auto& b : pool["backends"]) {
    out[b["address"].get<std::string>()] = {b["name"].get<std::string>(), b["source"].get<std::string>()};
  }
  return out;
}

/// Membership events with source `dns`, as `<event> <address>`.
class DnsEvents {
 public:
  explicit DnsEvents(Balancer& balancer) {
    for (Event event : {Event::BackendAdded, Event::BackendRemoved}) {
      balancer.on(event, [this](const EventData& info) {
        const auto details = nlohmann::json::parse(info.details);
        if (details.value("source", "") != "dns") return;
        std::lock_guard lock(mutex_);
        seen_.insert(std::string(event_name(info.event)) + " " + details["backend"].get<std::string>());
      });
    }
  }
  bool has(const std::string& what) const {
    std::lock_guard lock(mutex_);
    return seen_.count(what) != 0;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> seen_;
};

TEST(DnsMembership, ThePoolFollowsTheAnswer) {
  DnsServer dns;
  HttpBackend two("two", "127.0.0.2:0");
  const std::string port = port_of(two.address());
  HttpBackend three("three", "127.0.0.3:" + port);
  dns.set("app.fulcrum.test", {"127.0.0.2"});

  Balancer balancer(dns_config(dns, "app.fulcrum.test:" + port, "app"));
  DnsEvents events(balancer);
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;
  const std::string admin = balancer.admin_address();

  // Resolved before the start returned: served from the first request on.
  EXPECT_EQ(answering(front), (std::set<std::string>{"two"}));
  EXPECT_EQ(members(admin), (std::map<std::string, std::pair<std::string, std::string>>{
                                {"127.0.0.2:" + port, {"app@127.0.0.2", "dns"}}}));

  // A second record: a second backend, which gets requests.
  dns.set("app.fulcrum.test", {"127.0.0.2", "127.0.0.3"});
  EXPECT_TRUE(eventually([&] { return answering(front) == std::set<std::string>{"two", "three"}; }));
  EXPECT_TRUE(events.has("backend_added 127.0.0.3:" + port));
  EXPECT_EQ(members(admin).size(), 2u);

  // The first record goes: its backend is drained, then leaves the pool.
  dns.set("app.fulcrum.test", {"127.0.0.3"});
  EXPECT_TRUE(eventually([&] { return events.has("backend_removed 127.0.0.2:" + port); }));
  EXPECT_EQ(answering(front), (std::set<std::string>{"three"}));
  EXPECT_EQ(members(admin), (std::map<std::string, std::pair<std::string, std::string>>{
                                {"127.0.0.3:" + port, {"app@127.0.0.3", "dns"}}}));

  // The name no longer exists: nothing is left to serve.
  dns.remove("app.fulcrum.test");
  EXPECT_TRUE(eventually([&] { return events.has("backend_removed 127.0.0.3:" + port); }));
  EXPECT_EQ(request(front).first, 503);
  balancer.stop();
}

TEST(DnsMembership, ARecordThatGoesAwayIsDrainedBeforeItLeaves) {
  DnsServer dns;
  HttpBackend two("two", "127.0.0.2:0");
  const std::string port = port_of(two.address());
  HttpBackend three("three", "127.0.0.3:" + port);
  dns.set("app.fulcrum.test", {"127.0.0.2"});
  Balancer balancer(dns_config(dns, "app.fulcrum.test:" + port));
  DnsEvents events(balancer);
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;

  // A slow request in flight on the record that goes away.
  std::optional<HttpResponse> slow;
  std::thread in_flight([&] {
    auto connection = HttpConnection::connect(front);
    slow = connection.get("/slow", "X-Test: delay=1500\r\n");
  });
  ASSERT_TRUE(eventually([&] { return two.heads() == 1; }));
  dns.set("app.fulcrum.test", {"127.0.0.3"});
  // New requests go to the new record at once; the old one is out of rotation but still a member.
  EXPECT_TRUE(eventually([&] { return answering(front) == std::set<std::string>{"three"}; }));
  EXPECT_FALSE(events.has("backend_removed 127.0.0.2:" + port)) << "left while a request was in flight";
  in_flight.join();
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->backend(), "two");
  EXPECT_TRUE(eventually([&] { return events.has("backend_removed 127.0.0.2:" + port); }));
  balancer.stop();
}

TEST(DnsMembership, ANewRecordJoinsACheckedPool) {
  DnsServer dns;
  HttpBackend two("two", "127.0.0.2:0");
  const std::string port = port_of(two.address());
  HttpBackend three("three", "127.0.0.3:" + port);
  three.set_behaviour(HttpBackend::Behaviour::Hang);  // its checks time out
  dns.set("app.fulcrum.test", {"127.0.0.2"});
  Config config = dns_config(dns, "app.fulcrum.test:" + port);
  HealthCheckConfig health;
  health.kind = HealthCheckConfig::Kind::Http;
  health.interval = 100ms;
  health.timeout = 50ms;
  health.rise = 1;
  config.pools[0].health = health;
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;
  const std::string admin = balancer.admin_address();
  const auto state_of = [&](const std::string& address) {
    auto connection = HttpConnection::connect(admin);
    auto response = connection.get("/api/pools/api", "", "admin");
    if (!response || response->status != 200) return std::string("?");
    const auto pool = nlohmann::json::parse(response->body);
    for (const auto& b : pool["backends"]) {
      if (b["address"] == address) return b["state"].get<std::string>();
    }
    return std::string("absent");
  };
  EXPECT_EQ(answering(front), (std::set<std::string>{"two"}));

  // The new record waits for a passing check before it gets any request.
  dns.set("app.fulcrum.test", {"127.0.0.2", "127.0.0.3"});
  EXPECT_TRUE(eventually([&] { return state_of("127.0.0.3:" + port) == "joining"; }));
  EXPECT_TRUE(eventually([&] { return three.heads() >= 2; })) << "checked while joining";
  EXPECT_EQ(answering(front), (std::set<std::string>{"two"}));
  EXPECT_EQ(state_of("127.0.0.3:" + port), "joining");

  three.set_behaviour(HttpBackend::Behaviour::Normal);
  EXPECT_TRUE(eventually([&] { return answering(front) == std::set<std::string>{"two", "three"}; }));
  balancer.stop();
}

TEST(DnsMembership, AShortTtlIsFollowedBeforeTheInterval) {
  DnsServer dns;
  HttpBackend two("two", "127.0.0.2:0");
  const std::string port = port_of(two.address());
  HttpBackend three("three", "127.0.0.3:" + port);
  dns.set("ttl.fulcrum.test", {"127.0.0.2"}, {}, /*ttl=*/1);

  // An hour between lookups, but the answer says it is valid for a second.
  Balancer balancer(dns_config(dns, "ttl.fulcrum.test:" + port, "", 1h));
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;
  EXPECT_EQ(answering(front), (std::set<std::string>{"two"}));
  dns.set("ttl.fulcrum.test", {"127.0.0.3"}, {}, 1);
  EXPECT_TRUE(eventually([&] { return answering(front, 2) == std::set<std::string>{"three"}; }, 5s));
  EXPECT_GE(dns.questions("ttl.fulcrum.test"), 2u * 2u) << "A and AAAA at start, and again after the TTL";
  balancer.stop();
}

TEST(DnsMembership, ANameUnresolvableAtStartIsRetriedAndRaisesAnError) {
  DnsServer dns;
  HttpBackend late("late", "127.0.0.2:0");
  const std::string port = port_of(late.address());

  Balancer balancer(dns_config(dns, "late.fulcrum.test:" + port, "", 100ms));
  std::mutex mutex;
  std::vector<nlohmann::json> errors;
  balancer.on(Event::Error, [&](const EventData& info) {
    std::lock_guard lock(mutex);
    errors.push_back(nlohmann::json::parse(info.details));
  });
  ASSERT_TRUE(balancer.start().ok()) << "an unresolvable name does not stop the start";
  const std::string front = balancer.listeners()[0].address;
  EXPECT_EQ(request(front).first, 503);
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return !errors.empty();
  }));
  {
    std::lock_guard lock(mutex);
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors[0]["phase"], "resolve");
    EXPECT_EQ(errors[0]["host"], "late.fulcrum.test");
    EXPECT_EQ(errors[0]["pool"], "api");
  }
  // Retried every 100 ms; reported once, not at every retry.
  EXPECT_TRUE(eventually([&] { return dns.questions("late.fulcrum.test") >= 8; }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(errors.size(), 1u);
  }

  dns.set("late.fulcrum.test", {"127.0.0.2"});
  EXPECT_TRUE(eventually([&] { return request(front) == std::pair<int, std::string>{200, "late"}; }));
  balancer.stop();
}

TEST(DnsMembership, LocalhostResolvesFromTheHostsFile) {
  HttpBackend local("local");  // 127.0.0.1
  const std::string port = port_of(local.address());
  Config config;
  config.workers = 1;
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  config.pools.push_back({.name = "api", .backends = {{.address = "localhost:" + port}}});
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  // /etc/hosts may also give ::1, where nothing listens: a retry then reaches 127.0.0.1.
  EXPECT_EQ(request(balancer.listeners()[0].address), (std::pair<int, std::string>{200, "local"}));
  const auto pool = members(balancer.admin_address());
  ASSERT_TRUE(pool.count("127.0.0.1:" + port)) << "no 127.0.0.1 record";
  EXPECT_EQ(pool.at("127.0.0.1:" + port), (std::pair<std::string, std::string>{"localhost@127.0.0.1", "dns"}));
  balancer.stop();
}

TEST(DnsMembership, TheBinaryStartsWithAnUnresolvableNameAndServesOnceItResolves) {
  DnsServer dns;
  HttpBackend late("late", "127.0.0.2:0");
  const std::string port = port_of(late.address());
  FulcrumProcess fulcrum("listeners:\n"
                         "  - {name: web, listen: 127.0.0.1:0, mode: http, pool: api}\n"
                         "resolver: {servers: [" + dns.address() + "]}\n"
                         "pools:\n"
                         "  api:\n"
                         "    resolve_interval: 100ms\n"
                         "    backends: [late.fulcrum.test:" + port + "]\n");
  const std::string front = fulcrum.address("web");
  ASSERT_FALSE(front.empty());
  EXPECT_EQ(request(front).first, 503);
  EXPECT_EQ(fulcrum.count_log("cannot resolve host name"), 1u);
  dns.set("late.fulcrum.test", {"127.0.0.2"});
  EXPECT_TRUE(eventually([&] { return request(front) == std::pair<int, std::string>{200, "late"}; }));
  EXPECT_EQ(fulcrum.count_log("host name resolves again"), 1u);
}

TEST(DnsMembership, CheckWarnsAboutAnUnresolvableNameAndPasses) {
  DnsServer dns;
  dns.set("known.fulcrum.test", {"127.0.0.2"});
  const auto check = [&](const std::string& backends) {
    const std::string path = write_temp_file("check.yaml", "listeners: [{listen: 127.0.0.1:0, pool: api}]\n"
                                                           "resolver: {servers: [" + dns.address() + "]}\n"
                                                           "pools: {api: {backends: [" + backends + "]}}\n");
    Process process({fulcrum_binary(), "check", "-c", path});
    const auto code = process.wait_exit(10s);
    process.read_output();
    return std::make_pair(code, process.all_output());
  };
  const auto [bad_code, bad_output] = check("known.fulcrum.test:80, gone.fulcrum.test:80");
  EXPECT_EQ(bad_code, 0);
  EXPECT_NE(bad_output.find("warning: "), std::string::npos) << bad_output;
  EXPECT_NE(bad_output.find("pools.api.backends[1].address: cannot resolve host 'gone.fulcrum.test'"),
            std::string::npos)
      << bad_output;
  EXPECT_EQ(bad_output.find("known.fulcrum.test"), std::string::npos) << "only the name that fails: " << bad_output;
  EXPECT_NE(bad_output.find("configuration is valid"), std::string::npos) << bad_output;

  const auto [good_code, good_output] = check("known.fulcrum.test:80, 127.0.0.1:81");
  EXPECT_EQ(good_code, 0);
  EXPECT_EQ(good_output.find("warning"), std::string::npos) << good_output;
}

}  // namespace
}  // namespace fulcrum::test

namespace fulcrum::test {
namespace {

// A reload follows host names too: one the file adds is looked up and its records serve (the
// first host name of a balancer that had none makes its resolver then); one the file drops has
// its records drained out.
TEST(DnsMembership, AReloadStartsAndStopsFollowingHostNames) {
  DnsServer dns;
  HttpBackend one("one");
  HttpBackend two("two", "127.0.0.2:0");
  const std::string port = port_of(two.address());
  dns.set("app.fulcrum.test", {"127.0.0.2"});

  Config by_address = dns_config(dns, one.address());
  Balancer balancer(by_address);
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;
  ASSERT_EQ(answering(front), (std::set<std::string>{"one"}));

  Config by_name = dns_config(dns, "app.fulcrum.test:" + port, "app");
  ReloadResult result = balancer.reload(by_name);
  ASSERT_TRUE(result.reloaded) << (result.errors.empty() ? "" : result.errors.front());
  EXPECT_TRUE(eventually([&] { return answering(front) == std::set<std::string>{"two"}; }, 3s))
      << "the host name a reload added never served";
  EXPECT_EQ(members(balancer.admin_address()).count("127.0.0.2:" + port), 1u);

  result = balancer.reload(by_address);
  ASSERT_TRUE(result.reloaded);
  EXPECT_TRUE(eventually([&] { return answering(front) == std::set<std::string>{"one"}; }, 3s));
  EXPECT_TRUE(eventually([&] { return members(balancer.admin_address()).count("127.0.0.2:" + port) == 0; }, 3s))
      << "the records of a host name the file dropped stayed";
  // Not followed any more: a new record of the name does not come back.
  const std::uint64_t asked = dns.questions("app.fulcrum.test");
  dns.set("app.fulcrum.test", {"127.0.0.2", "127.0.0.3"});
  std::this_thread::sleep_for(400ms);  // four resolve intervals of the pool
  EXPECT_EQ(dns.questions("app.fulcrum.test"), asked) << "the dropped name is still looked up";
  balancer.stop();
}

}  // namespace
}  // namespace fulcrum::test
