#include "process/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fulcrum::process {

namespace {

/// The system's boot time (`btime` of /proc/stat), seconds since the epoch; 0 if unknown.
double boot_time_seconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 20, '\n');
  }
  return 0;
}

std::uint64_t count_open_fds() {
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return 0;
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(directory);
  // The directory's own descriptor was open while counting.
  return count > 0 ? count - 1 : 0;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats stats;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = limit.rlim_cur;
  stats.open_fds = count_open_fds();

  std::ifstream file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so fields are counted from
  // after its last ')'. Field 3 (state) is the first there.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return stats;
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> values;
  for (std::string value; fields >> value;) values.push_back(value);
  // proc(5), 1-based: utime 14, stime 15, starttime 22, vsize 23, rss 24; values[0] is field 3.
  auto field = [&](int number) -> unsigned long long {
    const std::size_t index = static_cast<std::size_t>(number - 3);
    return index < values.size() ? std::strtoull(values[index].c_str(), nullptr, 10) : 0;  // never throws
  };
  if (values.size() < 22) return stats;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  stats.cpu_seconds = static_cast<double>(field(14) + field(15)) / ticks;
  stats.start_time_seconds = boot_time_seconds() + static_cast<double>(field(22)) / ticks;
  stats.virtual_memory_bytes = field(23);
  stats.resident_memory_bytes = static_cast<std::uint64_t>(static_cast<double>(field(24)) * page);
  stats.ok = true;
  return stats;
}

}  // namespace fulcrum::process
