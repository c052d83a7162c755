// What Prometheus users expect of every process (the `process_*` families the official client
// libraries export): CPU time, memory, descriptors, start time, read from /proc/self and
// getrlimit at each scrape.
#pragma once

#include <cstdint>

namespace fulcrum::process {

struct ProcessStats {
  /// False when /proc/self/stat could not be read (not Linux, /proc not mounted): the /proc
  /// fields are then 0 and the families are not exported.
  bool ok = false;
  double start_time_seconds = 0;  ///< since the Unix epoch
  double cpu_seconds = 0;         ///< user + system
  std::uint64_t resident_memory_bytes = 0;
  std::uint64_t virtual_memory_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;  ///< the soft RLIMIT_NOFILE
};

/// Reads this process's figures now. A few syscalls and one pass over /proc/self/fd: for a scrape,
/// never for the data path.
ProcessStats read_process_stats();

}  // namespace fulcrum::process
