// The helpers behind error messages: typo suggestions and key-path lines.
#include <gtest/gtest.h>

#include <array>
#include <string_view>

#include "config/key_path.h"
#include "config/suggest.h"

namespace fulcrum::config {
namespace {

TEST(EditDistance, CountsEditsAndSwapsIgnoringCase) {
  EXPECT_EQ(edit_distance("pool", "pool"), 0u);
  EXPECT_EQ(edit_distance("pol", "pool"), 1u);
  EXPECT_EQ(edit_distance("weigth", "weight"), 1u);  // adjacent swap counts once
  EXPECT_EQ(edit_distance("Pool", "pool"), 0u);
  EXPECT_EQ(edit_distance("", "mode"), 4u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ClosestName, SuggestsOnlyLikelyTypos) {
  constexpr std::array<std::string_view, 4> keys = {"name", "listen", "mode", "pool"};
  EXPECT_EQ(closest_name("pol", keys), std::optional<std::string_view>("pool"));
  EXPECT_EQ(closest_name("lsten", keys), std::optional<std::string_view>("listen"));
  EXPECT_EQ(closest_name("nmae", keys), std::optional<std::string_view>("name"));
  EXPECT_EQ(closest_name("colour", keys), std::nullopt);
  EXPECT_EQ(closest_name("xx", keys), std::nullopt);
  constexpr std::array<std::string_view, 1> long_key = {"max_connections"};
  EXPECT_EQ(closest_name("max_conns", long_key), std::nullopt);  // 6 edits: too far
  EXPECT_EQ(closest_name("max_conection", long_key), std::optional<std::string_view>("max_connections"));
}

TEST(KeyPath, BuildsAndClimbsPaths) {
  EXPECT_EQ(child_path("", "workers"), "workers");
  EXPECT_EQ(child_path("pools", "chat"), "pools.chat");
  EXPECT_EQ(item_path("pools.chat.backends", 3), "pools.chat.backends[3]");
  EXPECT_EQ(parent_path("pools.chat.backends[3]"), "pools.chat.backends");
  EXPECT_EQ(parent_path("pools.chat"), "pools");
  EXPECT_EQ(parent_path("workers"), "");
  EXPECT_TRUE(is_at_or_under("listeners[0].pool", "listeners[0]"));
  EXPECT_TRUE(is_at_or_under("listeners[0]", "listeners[0]"));
  EXPECT_FALSE(is_at_or_under("listeners[10]", "listeners[1]"));
  EXPECT_FALSE(is_at_or_under("pools.chatty", "pools.chat"));
  EXPECT_TRUE(is_at_or_under("anything", ""));
}

TEST(KeyLines, FallsBackToTheNearestAncestorAndPicksSightings) {
  KeyLines lines;
  EXPECT_EQ(lines.line_of("workers"), 0);
  lines.record("", 1);
  lines.record("pools.chat", 5);
  lines.record("pools.chat", 9);
  lines.record("pools.chat.strategy", 10);
  EXPECT_EQ(lines.line_of("pools.chat"), 5);
  EXPECT_EQ(lines.line_of("pools.chat", 1), 9);
  EXPECT_EQ(lines.line_of("pools.chat", KeyLines::kLatest), 9);
  EXPECT_EQ(lines.line_of("pools.chat.backends[0].weight", 1), 9);
  EXPECT_EQ(lines.line_of("pools.chat.strategy", 1), 10);
  EXPECT_EQ(lines.line_of("listeners"), 1);
}

}  // namespace
}  // namespace fulcrum::config
