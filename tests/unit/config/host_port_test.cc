// host:port as the configuration writes addresses.
#include <gtest/gtest.h>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

TEST(ParseHostPort, AcceptsHostsIpv4AndBracketedIpv6) {
  auto a = parse_host_port("example.com:80");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.com");
  EXPECT_EQ(a->port, 80);
  auto b = parse_host_port("[::1]:8080");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 8080);
  EXPECT_TRUE(parse_host_port("127.0.0.1:0"));
}

TEST(ParseHostPort, RejectsWithAReason) {
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
    EXPECT_FALSE(parse_host_port(c.text, &error)) << c.text;
    EXPECT_EQ(error, c.error) << c.text;
  }
}

}  // namespace
}  // namespace fulcrum
