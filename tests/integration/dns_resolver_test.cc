// net::DnsResolver (c-ares) against a DNS server the test runs on loopback: what an answer gives
// (every record, the smallest TTL), a name that does not exist, a server that never answers, and
// lookups driven by an event loop.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/event_loop.h"
#include "net/dns_resolver.h"
#include "support/dns_server.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> texts(const net::Resolution& resolution) {
  std::vector<std::string> out;
  for (const auto& address : resolution.addresses) out.push_back(address.to_string());
  std::sort(out.begin(), out.end());
  return out;
}

net::Resolution resolve_blocking(net::DnsResolver& resolver, const std::string& host, std::uint16_t port) {
  net::Resolution result;
  result.error = "no callback";
  resolver.resolve(host, port, [&](net::Resolution answer) { result = std::move(answer); });
  resolver.run_until_done(core::Clock::now() + 5s);
  return result;
}

TEST(DnsResolver, GivesEveryRecordAndTheSmallestTtl) {
  DnsServer dns;
  dns.set("app.fulcrum.test", {"127.0.0.2", "127.0.0.3"}, {"::1"}, 7);
  std::string error;
  auto resolver = net::DnsResolver::create({.servers = {dns.address()}}, &error);
  ASSERT_TRUE(resolver) << error;
  const auto answer = resolve_blocking(*resolver, "app.fulcrum.test", 8080);
  ASSERT_TRUE(answer.ok()) << answer.error;
  EXPECT_EQ(texts(answer), (std::vector<std::string>{"127.0.0.2:8080", "127.0.0.3:8080", "[::1]:8080"}));
  EXPECT_EQ(answer.ttl, 7s);
  EXPECT_EQ(resolver->pending(), 0u);
}

TEST(DnsResolver, ANameThatDoesNotExistIsNotFound) {
  DnsServer dns;
  auto resolver = net::DnsResolver::create({.servers = {dns.address()}}, nullptr);
  ASSERT_TRUE(resolver);
  const auto answer = resolve_blocking(*resolver, "nothing.fulcrum.test", 80);
  EXPECT_FALSE(answer.ok());
  EXPECT_TRUE(answer.not_found) << answer.error;
  EXPECT_TRUE(answer.addresses.empty());
  EXPECT_GE(dns.questions("nothing.fulcrum.test"), 1u);
}

TEST(DnsResolver, AServerThatNeverAnswersFailsWithinTheBudget) {
  // A UDP socket nobody reads: queries vanish.
  const int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof local;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&local), &length), 0);
  const std::string server = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
  auto resolver = net::DnsResolver::create({.servers = {server}, .timeout = 100ms, .tries = 1}, nullptr);
  ASSERT_TRUE(resolver);
  const auto answer = resolve_blocking(*resolver, "app.fulcrum.test", 80);
  EXPECT_FALSE(answer.ok());
  EXPECT_FALSE(answer.not_found) << "no answer is not an answer: " << answer.error;
  ::close(silent);
}

TEST(DnsResolver, AnEventLoopDrivesLookups) {
  DnsServer dns;
  dns.set("loop.fulcrum.test", {"127.0.0.4"});
  auto resolver = net::DnsResolver::create({.servers = {dns.address()}}, nullptr);
  ASSERT_TRUE(resolver);
  core::EventLoop loop;
  std::vector<net::Resolution> answers;  // loop thread only
  std::atomic<int> done{0};
  loop.post([&] {
    resolver->attach(loop);
    resolver->resolve("loop.fulcrum.test", 81, [&](net::Resolution answer) {
      answers.push_back(std::move(answer));
      dns.set("loop.fulcrum.test", {"127.0.0.5"});
      // A second lookup from inside the first one's callback, as DnsSource's timers do.
      resolver->resolve("loop.fulcrum.test", 81, [&](net::Resolution again) {
        answers.push_back(std::move(again));
        done = 1;
        loop.quit();
      });
    });
  });
  std::thread guard([&] {
    // Bounded: a lookup that never completes ends the loop after 5 s (and fails below).
    for (int i = 0; i < 250 && done.load() == 0; ++i) std::this_thread::sleep_for(20ms);
    loop.quit();
  });
  loop.run();
  guard.join();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(texts(answers[0]), (std::vector<std::string>{"127.0.0.4:81"}));
  EXPECT_EQ(texts(answers[1]), (std::vector<std::string>{"127.0.0.5:81"}));
  resolver.reset();  // before the loop, whose epoll it leaves
}

TEST(DnsResolver, RefusesAServerThatIsNotAnAddress) {
  std::string error;
  EXPECT_FALSE(net::DnsResolver::create({.servers = {"dns.example:53"}}, &error));
  EXPECT_NE(error.find("dns.example:53"), std::string::npos) << error;
}

}  // namespace
}  // namespace fulcrum::test
