// `pools.NAME.managed.max_parallel`: how many instances a rolling restart replaces at a time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

constexpr const char* kPool = "listeners: [{listen: \"127.0.0.1:7000\", pool: app}]\n"
                              "pools:\n"
                              "  app:\n"
                              "    managed:\n"
                              "      command: [./app]\n"
                              "      ports: 9100-9199\n";

TEST(ManagedRollConfig, MaxParallelIsReadAndDefaultsToOne) {
  auto result = load_config_string(std::string(kPool) + "      max_parallel: 3\n");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->pools[0].managed->max_parallel, 3u);
  result = load_config_string(kPool);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->pools[0].managed->max_parallel, 1u);
}

TEST(ManagedRollConfig, MaxParallelOutsideItsRangeIsReportedAtItsLine) {
  for (const char* bad : {"0", "1001", "two", "-1"}) {
    const auto result = load_config_string(std::string(kPool) + "      max_parallel: " + bad + "\n", "bad.yaml");
    ASSERT_EQ(result.errors.size(), 1u) << bad;
    const std::string error = result.errors[0].to_string();
    EXPECT_EQ(error.rfind("bad.yaml:7: pools.app.managed.max_parallel: ", 0), 0u) << error;
    EXPECT_FALSE(result.config) << bad;
  }
}

}  // namespace
}  // namespace fulcrum
