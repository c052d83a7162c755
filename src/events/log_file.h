// The file side of the event log and the access log: both append whole lines to a file they may
// reopen (SIGUSR1, after rotation).
#pragma once

#include <string>
#include <string_view>

namespace fulcrum::events {

/// open(2) for appending, created 0644 if missing; the fd, or -1 with errno set.
int open_append(const std::string& path);

/// Writes all of `text` to `fd` (retrying on EINTR and short writes). False with errno set when
/// the file refuses it; what was not written is lost.
bool write_all(int fd, std::string_view text);

}  // namespace fulcrum::events
