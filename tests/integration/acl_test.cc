// Who gets in, over a real Balancer and real loopback sockets: `allow` / `deny` on listeners and
// on the admin listener, `limits.connections_per_ip` counted exactly across workers, and the
// refusals visible in /metrics, the status API and `refused` events. Clients appear as different
// addresses by connecting from 127.0.0.2 and 127.0.0.3.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "fulcrum/balancer.h"
#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

ListenerConfig listener(const std::string& name, ListenerMode mode) {
  ListenerConfig config;
  config.name = name;
  config.listen = "127.0.0.1:0";
  config.mode = mode;
  config.pool = "api";
  return config;
}

Config base_config(const std::string& backend) {
  Config config;
  config.workers = 2;  // a client's connections land on both workers: the counts must be shared
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  config.pools.push_back({.name = "api", .backends = {{.address = backend}}});
  return config;
}

std::string address_of(const Balancer& balancer, const std::string& name) {
  for (const auto& bound : balancer.listeners()) {
    if (bound.name == name) return bound.address;
  }
  return "";
}

/// A GET from `source_ip` on a new connection: the status, or 0 when the connection closed (or
/// said nothing) without an answer. `Connection: close`, so that a relayed (tcp listener)
/// connection ends with the backend's close rather than lingering until the drain.
int get_status(const std::string& source_ip, const std::string& address) {
  HttpConnection c(Client::connect_from(source_ip, address));
  if (!c.valid()) return 0;
  auto response = c.get("/", "Connection: close\r\n");
  return response ? response->status : 0;
}

/// The value of the sample `name{labels}` in the admin's /metrics, -1 when absent.
double metric(const std::string& admin, const std::string& series) {
  return metric_sample(admin_call(admin, "GET", "/metrics").body, series);
}

/// The status API's entry for listener `name` (null when absent).
nlohmann::json listener_status(const std::string& admin, const std::string& name) {
  const AdminReply reply = admin_call(admin, "GET", "/api/status");
  if (!reply.json.is_object() || !reply.json.contains("listeners")) return nullptr;
  for (const auto& entry : reply.json["listeners"]) {
    if (entry.value("name", "") == name) return entry;
  }
  return nullptr;
}

/// `refused` events received by a subscription.
struct RefusedEvents {
  std::mutex mutex;
  std::vector<std::string> details;

  std::size_t count_containing(const std::string& text) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& d : details) n += d.find(text) != std::string::npos ? 1 : 0;
    return n;
  }
};

void subscribe(Balancer& balancer, RefusedEvents& events) {
  balancer.on(Event::Refused, [&events](const EventData& event) {
    std::lock_guard lock(events.mutex);
    events.details.push_back(event.details);
  });
}

TEST(Acl, DeniedClientsAreClosedBeforeAnyByteAndCounted) {
  HttpBackend backend("b");
  Config config = base_config(backend.address());
  ListenerConfig web = listener("web", ListenerMode::Http);
  web.deny = {"127.0.0.3"};
  ListenerConfig only = listener("only", ListenerMode::Tcp);
  only.allow = {"127.0.0.2/32", "::1"};
  config.listeners = {web, only};
  Balancer balancer(config);
  RefusedEvents events;
  subscribe(balancer, events);
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();

  EXPECT_EQ(get_status("127.0.0.2", address_of(balancer, "web")), 200);
  EXPECT_EQ(get_status("127.0.0.1", address_of(balancer, "web")), 200);
  const auto requests_before = backend.requests();
  // The denied client's request is never read, never reaches the backend.
  HttpConnection denied(Client::connect_from("127.0.0.3", address_of(balancer, "web")));
  ASSERT_TRUE(denied.valid());
  denied.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(denied.read_response(3s)) << "a denied client gets no answer";
  EXPECT_EQ(backend.requests(), requests_before);

  // The tcp listener's allow list: 127.0.0.2 is relayed, 127.0.0.1 is not named and refused.
  EXPECT_EQ(get_status("127.0.0.2", address_of(balancer, "only")), 200);
  const auto backend_connections = backend.accepted();
  Client outsider = Client::connect_from("127.0.0.1", address_of(balancer, "only"));
  ASSERT_TRUE(outsider.valid());
  EXPECT_TRUE(outsider.closed_by_peer(3s));
  EXPECT_EQ(backend.accepted(), backend_connections) << "a refused tcp client is never relayed";

  EXPECT_TRUE(eventually([&] { return metric(admin, R"(fulcrum_listener_refused_total{listener="web",reason="acl"})") == 1; }, 3s))
      << metric(admin, R"(fulcrum_listener_refused_total{listener="web",reason="acl"})");
  EXPECT_EQ(metric(admin, R"(fulcrum_listener_refused_total{listener="only",reason="acl"})"), 1);
  EXPECT_EQ(metric(admin, R"(fulcrum_listener_refused_total{listener="web",reason="connections_per_ip"})"), 0);
  const auto status = listener_status(admin, "web");
  ASSERT_FALSE(status.is_null());
  EXPECT_EQ(status["refused"]["acl"], 1);
  EXPECT_EQ(status["accepted_total"], 2) << "a refused connection is not an accepted one";
  ASSERT_TRUE(eventually([&] { return events.count_containing(R"("reason":"acl")") == 2; }, 3s));
  EXPECT_EQ(events.count_containing(R"("listener":"web","reason":"acl","client":"127.0.0.3")"), 1u);
  EXPECT_EQ(events.count_containing(R"("listener":"only","reason":"acl","client":"127.0.0.1")"), 1u);
}

TEST(Acl, ConnectionsPerIpAreExactAcrossWorkers) {
  HttpBackend backend("b");
  Config config = base_config(backend.address());
  ListenerConfig web = listener("web", ListenerMode::Http);
  web.limits = ClientLimitsConfig{.connections_per_ip = 5};
  ListenerConfig tcp = listener("tcp", ListenerMode::Tcp);
  tcp.limits = ClientLimitsConfig{.connections_per_ip = 1};
  config.listeners = {web, tcp};
  Balancer balancer(config);
  RefusedEvents events;
  subscribe(balancer, events);
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  const std::string address = address_of(balancer, "web");

  // Ten connections from one client, each kept open: exactly five are served, five get 429.
  std::vector<HttpConnection> kept;
  int served = 0;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    HttpConnection c(Client::connect_from("127.0.0.2", address));
    ASSERT_TRUE(c.valid());
    auto response = c.get("/");
    ASSERT_TRUE(response) << "connection " << i << " got no answer";
    if (response->status == 200) {
      ++served;
      kept.push_back(std::move(c));
    } else {
      EXPECT_EQ(response->status, 429) << i;
      EXPECT_EQ(response->field("Connection").value_or(""), "close");
      EXPECT_TRUE(c.closed_by_peer(3s));
      ++refused;
    }
  }
  EXPECT_EQ(served, 5);
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(get_status("127.0.0.3", address), 200) << "another client has its own count";

  // One of the five leaves: its slot frees once the session ended (on its worker, soon).
  kept.pop_back();
  int late_refusals = 0;
  ASSERT_TRUE(eventually([&] {
    const int status = get_status("127.0.0.2", address);
    late_refusals += status == 429 ? 1 : 0;
    return status == 200;
  }, 3s));

  // tcp: the second connection of a client is closed with nothing written.
  Client first = Client::connect_from("127.0.0.2", address_of(balancer, "tcp"));
  ASSERT_TRUE(first.valid());
  ASSERT_TRUE(first.send_all("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_NE(first.read_until("\r\n\r\n").find("200"), std::string::npos);
  Client second = Client::connect_from("127.0.0.2", address_of(balancer, "tcp"));
  ASSERT_TRUE(second.valid());
  EXPECT_TRUE(second.closed_by_peer(3s));

  EXPECT_EQ(metric(admin, R"(fulcrum_listener_refused_total{listener="web",reason="connections_per_ip"})"),
            5 + late_refusals);
  EXPECT_EQ(metric(admin, R"(fulcrum_listener_refused_total{listener="tcp",reason="connections_per_ip"})"), 1);
  EXPECT_EQ(metric(admin, R"(fulcrum_listener_refused_total{listener="web",reason="acl"})"), 0);
  EXPECT_EQ(metric(admin, R"(fulcrum_listener_clients{listener="web"})"), 2) << "127.0.0.2 and 127.0.0.3";
  const auto status = listener_status(admin, "web");
  ASSERT_FALSE(status.is_null());
  EXPECT_EQ(status["refused"]["connections_per_ip"], 5 + late_refusals);
  ASSERT_TRUE(eventually([&] { return events.count_containing(R"("reason":"connections_per_ip")") == 6u + late_refusals; }, 3s));
}

// requests_per_ip: a token bucket per client, shared by the workers. A burst of 5 at 1/s: five
// requests pass at once on one kept-alive connection, the sixth gets 429 with Retry-After and the
// connection closes; another client has its own bucket; nothing refused reached the backend.
TEST(Acl, RequestsOverTheRatePerIpGet429WithRetryAfter) {
  HttpBackend backend("b");
  Config config = base_config(backend.address());
  ListenerConfig web = listener("web", ListenerMode::Http);
  web.limits = ClientLimitsConfig{.requests_per_ip = RequestRateConfig{.requests = 1, .per = std::chrono::seconds(1), .burst = 5}};
  config.listeners = {web};
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  const std::string address = address_of(balancer, "web");

  HttpConnection c(Client::connect_from("127.0.0.2", address));
  ASSERT_TRUE(c.valid());
  for (int i = 0; i < 5; ++i) {
    auto response = c.get("/ok" + std::to_string(i));
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status, 200) << i;
  }
  auto limited = c.get("/over");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  const auto retry_after = limited->field("Retry-After");
  ASSERT_TRUE(retry_after);
  EXPECT_GE(std::stoi(*retry_after), 1);
  EXPECT_LE(std::stoi(*retry_after), 1);  // one token a second: the next comes within a second
  EXPECT_TRUE(c.closed_by_peer(3s));
  // A new connection from the same client is still over the rate; another client is not.
  EXPECT_EQ(get_status("127.0.0.2", address), 429);
  EXPECT_EQ(get_status("127.0.0.3", address), 200);
  EXPECT_EQ(backend.heads_containing("/over"), 0u) << "a refused request reached the backend";
  EXPECT_EQ(backend.requests(), 6u);
}

TEST(Acl, AReloadAppliesNewListsAndLimitsAndKeepsTheCounts) {
  HttpBackend backend("b");
  Config config = base_config(backend.address());
  ListenerConfig web = listener("web", ListenerMode::Http);
  web.limits = ClientLimitsConfig{.connections_per_ip = 3};
  config.listeners = {web};
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  const std::string address = address_of(balancer, "web");
  EXPECT_EQ(get_status("127.0.0.3", address), 200);
  // 127.0.0.2 holds two connections across the reload.
  std::vector<HttpConnection> kept;
  for (int i = 0; i < 2; ++i) {
    HttpConnection c(Client::connect_from("127.0.0.2", address));
    auto response = c.get("/");
    ASSERT_TRUE(response && response->status == 200) << i;
    kept.push_back(std::move(c));
  }

  Config next = config;
  next.listeners[0].deny = {"127.0.0.3"};
  next.listeners[0].limits->connections_per_ip = 2;
  const ReloadResult reloaded = balancer.reload(next);
  ASSERT_TRUE(reloaded.ok()) << (reloaded.errors.empty() ? "" : reloaded.errors[0]);
  EXPECT_EQ(get_status("127.0.0.3", address), 0) << "denied from now on";
  EXPECT_EQ(get_status("127.0.0.2", address), 429) << "the two connections held from before count against the new limit";
  EXPECT_EQ(get_status("127.0.0.1", address), 200);
  for (auto& c : kept) {
    auto response = c.get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << "connections already open are not cut by a reload";
  }
}

TEST(Acl, TheAdminListenerHonoursItsLists) {
  HttpBackend backend("b");
  Config config = base_config(backend.address());
  config.admin->allow = {"127.0.0.2"};
  config.listeners = {listener("web", ListenerMode::Http)};
  Balancer balancer(config);
  RefusedEvents events;
  subscribe(balancer, events);
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();

  HttpConnection allowed(Client::connect_from("127.0.0.2", admin));
  auto answer = allowed.get("/metrics");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  HttpConnection outsider(Client::connect_from("127.0.0.3", admin));
  ASSERT_TRUE(outsider.valid());
  outsider.send("GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n");
  EXPECT_FALSE(outsider.read_response(3s)) << "a client the admin listener does not allow gets no answer";
  EXPECT_EQ(get_status("127.0.0.3", address_of(balancer, "web")), 200) << "the admin's lists are its own";

  HttpConnection again(Client::connect_from("127.0.0.2", admin));
  auto metrics = again.get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("fulcrum_control_refused_total{listener=\"admin\",reason=\"acl\"} 1\n"), std::string::npos)
      << metrics->body.substr(0, 2000);
  ASSERT_TRUE(eventually([&] { return events.count_containing(R"("listener":"admin","reason":"acl","client":"127.0.0.3")") == 1; }, 3s));
}

}  // namespace
}  // namespace fulcrum::test
