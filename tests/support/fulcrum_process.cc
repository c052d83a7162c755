#include "support/fulcrum_process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fulcrum::test {

namespace {
nlohmann::json parse_json_line(const std::string& line) {
  return nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
}
}  // namespace

std::string fulcrum_binary() {
#ifdef FULCRUM_BINARY
  return FULCRUM_BINARY;
#else
  return "fulcrum";
#endif
}

namespace {

// The directories write_temp_file() made, removed when the test process exits (each test runs in
// a process of its own): hundreds of test runs would otherwise leave tens of thousands in /tmp.
// One that a crashed test leaves stays, with what it holds for looking into.
class TempDirectories {
 public:
  ~TempDirectories() {
    if (std::getenv("FULCRUM_TEST_KEEP_TMP") != nullptr) return;
    std::lock_guard lock(mutex_);
    for (const auto& dir : dirs_) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }
  void add(std::filesystem::path dir) {
    std::lock_guard lock(mutex_);
    dirs_.push_back(std::move(dir));
  }

 private:
  std::mutex mutex_;
  std::vector<std::filesystem::path> dirs_;
};

TempDirectories& temp_directories() {
  static TempDirectories dirs;
  return dirs;
}

}  // namespace

std::string write_temp_file(const std::string& name, const std::string& content) {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  // mkdtemp: a directory nobody had. Named by pid and count alone, it could be one a dead test
  // process of the same pid left behind (pids wrap at 32768), and a log opened for appending there
  // would start with that process's lines.
  std::string pattern = (std::filesystem::temp_directory_path() /
                         ("fulcrum-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-XXXXXX"))
                            .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "cannot create a temporary directory like " << pattern;
    return pattern + "/" + name;
  }
  // As create_directories made it before: others may enter (tests that drop to `nobody`).
  ::chmod(pattern.c_str(), 0755);
  const std::filesystem::path dir = pattern;
  temp_directories().add(dir);
  auto path = dir / name;
  std::ofstream(path) << content;
  return path.string();
}

FulcrumProcess::FulcrumProcess(const std::string& yaml, std::size_t listeners, std::vector<std::string> extra_args) {
  // FULCRUM_TEST_IO_URING=false runs a suite again with direct sends (tests/CMakeLists.txt), so
  // both ways of sending are tested; a config that sets io_uring itself keeps its value.
  const char* io_uring = std::getenv("FULCRUM_TEST_IO_URING");
  const bool sets_io_uring = yaml.rfind("io_uring:", 0) == 0 || yaml.find("\nio_uring:") != std::string::npos;
  config_path_ = write_temp_file("fulcrum.yaml", io_uring && !sets_io_uring ? "io_uring: " + std::string(io_uring) + "\n" + yaml : yaml);
  std::vector<std::string> argv = {fulcrum_binary(), "--log-format", "json", "run", "-c", config_path_};
  for (auto& a : extra_args) argv.push_back(a);
  process_ = std::make_unique<Process>(argv);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (addresses_.size() < listeners && std::chrono::steady_clock::now() < deadline) {
    auto line = process_->wait_for_line(
        [&](const std::string& l) {
          auto j = parse_json_line(l);
          return j.is_object() && j.value("msg", "") == "listening" && !addresses_.count(j.value("listener", ""));
        },
        std::chrono::milliseconds(200));
    if (line) {
      auto j = parse_json_line(*line);
      addresses_[j.value("listener", "")] = j.value("address", "");
    } else if (!process_->running()) {
      break;
    }
  }
  if (addresses_.size() < listeners) {
    ADD_FAILURE() << "fulcrum did not start listening; output:\n" << process_->all_output();
  }
}

std::string FulcrumProcess::address(const std::string& listener) const {
  auto it = addresses_.find(listener);
  return it == addresses_.end() ? std::string() : it->second;
}

FulcrumProcess::~FulcrumProcess() {
  if (!process_) return;
  process_->read_output(std::chrono::milliseconds(10));
  for (const auto& line : process_->lines()) {
    auto j = parse_json_line(line);
    if (!j.is_object()) continue;
    const std::string message = j.value("msg", "");
    EXPECT_NE(message, "queued send result not taken") << line;
    EXPECT_NE(message, "queued send replayed with other data") << line;
  }
}

std::size_t FulcrumProcess::count_log(const std::string& message) {
  process_->read_output();
  std::size_t n = 0;
  for (const auto& line : process_->lines()) {
    auto j = parse_json_line(line);
    if (j.is_object() && j.value("msg", "") == message) ++n;
  }
  return n;
}

}  // namespace fulcrum::test
