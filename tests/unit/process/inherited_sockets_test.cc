#include "process/inherited_sockets.h"

#include <gtest/gtest.h>

namespace fulcrum::process {
namespace {

TEST(InheritedSockets, FormatsAndParsesBack) {
  const std::vector<HandedSocket> sockets = {{SocketKind::Listener, "web", 0, 5},
                                             {SocketKind::Listener, "web", 1, 6},
                                             {SocketKind::Listener, "", 0, 9},
                                             {SocketKind::Admin, "", 0, 7},
                                             {SocketKind::Registration, "", 0, 8}};
  const std::string text = format_inherited(sockets);
  EXPECT_EQ(text, "listener:web:0:5,listener:web:1:6,listener::0:9,admin::0:7,registration::0:8");
  std::string error;
  auto parsed = parse_inherited(text, &error);
  ASSERT_TRUE(parsed) << error;
  ASSERT_EQ(parsed->size(), sockets.size());
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    EXPECT_EQ((*parsed)[i].kind, sockets[i].kind);
    EXPECT_EQ((*parsed)[i].name, sockets[i].name);
    EXPECT_EQ((*parsed)[i].index, sockets[i].index);
    EXPECT_EQ((*parsed)[i].fd, sockets[i].fd);
  }
  EXPECT_TRUE(parse_inherited("", &error)->empty());
}

TEST(InheritedSockets, RefusesMalformedItemsAndSaysWhich) {
  std::string error;
  EXPECT_FALSE(parse_inherited("listener:web:0", &error));
  EXPECT_NE(error.find("listener:web:0"), std::string::npos) << error;
  EXPECT_FALSE(parse_inherited("socket:web:0:5", &error));
  EXPECT_NE(error.find("unknown kind"), std::string::npos) << error;
  EXPECT_FALSE(parse_inherited("listener:web:x:5", &error));
  EXPECT_FALSE(parse_inherited("listener:web:0:-1", &error));
  EXPECT_FALSE(parse_inherited("listener:web:0:5x", &error));
  EXPECT_FALSE(parse_inherited("listener:w b:0:5", &error));
  EXPECT_FALSE(parse_inherited("listener:web:0:5,", &error)) << "an empty item is not silently skipped";
}

TEST(InheritedSockets, AnAddressMatchesOnFamilyIpAndPortUnlessThePortIsZero) {
  const auto bound = *net::Address::parse_numeric("127.0.0.1:8080");
  EXPECT_TRUE(address_matches(*net::Address::parse_numeric("127.0.0.1:8080"), bound));
  EXPECT_TRUE(address_matches(*net::Address::parse_numeric("127.0.0.1:0"), bound)) << "port 0 keeps the bound port";
  EXPECT_FALSE(address_matches(*net::Address::parse_numeric("127.0.0.1:8081"), bound));
  EXPECT_FALSE(address_matches(*net::Address::parse_numeric("127.0.0.2:8080"), bound));
  EXPECT_FALSE(address_matches(*net::Address::parse_numeric("[::ffff:127.0.0.1]:8080"), bound))
      << "another family is another socket";
}

}  // namespace
}  // namespace fulcrum::process
