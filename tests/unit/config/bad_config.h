// The table shape shared by the bad-file tests: a complete file and the exact lines `fulcrum
// check` prints for it.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum {

/// One bad file and every error expected from it, in order.
struct BadConfigRow {
  std::string_view name;
  std::string_view yaml;
  std::vector<std::string> errors;
};

/// Failures name the row rather than dumping its bytes.
inline void PrintTo(const BadConfigRow& row, std::ostream* out) { *out << row.name; }

/// The printed errors of loading `yaml` as `bad.yaml`.
inline std::vector<std::string> load_errors(std::string_view yaml) {
  const ConfigLoadResult result = load_config_string(yaml, "bad.yaml");
  std::vector<std::string> printed;
  for (const ConfigError& error : result.errors) printed.push_back(error.to_string());
  // A failed load must never hand out a half-read Config.
  if (!result.errors.empty()) {
    EXPECT_FALSE(result.config.has_value());
  }
  return printed;
}

/// A gtest parameter name from a row's name: letters and digits kept, the rest `_`.
inline std::string row_test_name(const ::testing::TestParamInfo<BadConfigRow>& info) {
  std::string name;
  for (char c : info.param.name) {
    name += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
  }
  return name;
}

}  // namespace fulcrum
