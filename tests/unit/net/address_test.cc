#include "net/address.h"

#include <gtest/gtest.h>

namespace fulcrum::net {
namespace {

TEST(SplitHostPort, AcceptsHostsIpv4AndBracketedIpv6) {
  auto a = split_host_port("example.com:80");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.com");
  EXPECT_EQ(a->port, 80);
  auto b = split_host_port("[::1]:8080");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 8080);
  EXPECT_TRUE(split_host_port("127.0.0.1:0"));
}

TEST(SplitHostPort, RejectsWithAReason) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"127.0.0.1", "address has no port (expected host:port)"},
      {"127.0.0.1:", "address has no port (expected host:port)"},
      {":80", "address has an empty host"},
      {"host:http", "port is not a number"},
      {"host:65536", "port out of range (0-65535)"},
      {"::1:80", "IPv6 addresses must be written [addr]:port"},
      {"[::1:80", "unbalanced '[' in address"},
      {"[::1]80", "address has no port (expected host:port)"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(split_host_port(c.text, &error)) << c.text;
    EXPECT_EQ(error, c.error) << c.text;
  }
}

TEST(Address, ParsesAndPrintsBackBothFamilies) {
  auto v4 = Address::parse_numeric("10.1.2.3:443");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "10.1.2.3:443");
  EXPECT_EQ(v4->port(), 443);
  auto v6 = Address::parse_numeric("[2001:db8::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "[2001:db8::1]:80");
  EXPECT_FALSE(Address::parse_numeric("localhost:80")) << "numeric parsing never resolves";
}

TEST(Address, Ipv4AndItsMappedIpv6FormGiveTheSameClientKey) {
  auto v4 = Address::parse_numeric("192.0.2.7:1");
  auto mapped = Address::parse_numeric("[::ffff:192.0.2.7]:2");
  ASSERT_TRUE(v4 && mapped);
  EXPECT_EQ(v4->ip_bytes(), mapped->ip_bytes());
  EXPECT_NE(v4->ip_bytes(), Address::parse_numeric("192.0.2.8:1")->ip_bytes());
}

TEST(Address, ResolvesNamesAndExplainsFailures) {
  auto local = Address::resolve("localhost:9");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->port(), 9);
  std::string error;
  EXPECT_FALSE(Address::resolve("no-such-host.invalid:80", &error));
  EXPECT_NE(error.find("cannot resolve host 'no-such-host.invalid'"), std::string::npos) << error;
}

}  // namespace
}  // namespace fulcrum::net
