#include "process/pid_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::process {

namespace {

std::string describe(const char* what, const std::string& path) {
  return std::string("cannot ") + what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string PidFile::write(pid_t pid) {
  const std::string text = std::to_string(pid) + "\n";
  const std::string temporary = path_ + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return describe("write", temporary);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int saved = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    errno = saved;
    return describe("write", temporary);
  }
  if (::rename(temporary.c_str(), path_.c_str()) != 0) {
    const std::string error = describe("write", path_);
    ::unlink(temporary.c_str());
    return error;
  }
  pid_ = pid;
  return {};
}

std::string PidFile::remove() {
  if (pid_ == 0) return {};
  std::string error;
  const auto current = read_pid_file(path_, &error);
  if (!current || *current != pid_) return {};  // gone, or another process's now
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return describe("remove", path_);
  pid_ = 0;
  return {};
}

std::string PidFile::move_to(const std::string& new_path) {
  if (::rename(path_.c_str(), new_path.c_str()) != 0) return describe("rename", path_ + " to " + new_path);
  path_ = new_path;
  return {};
}

std::optional<pid_t> read_pid_file(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = describe("read", path);
    return std::nullopt;
  }
  char text[32];
  const ssize_t got = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (got < 0) {
    if (error) *error = describe("read", path);
    return std::nullopt;
  }
  // Digits, then an optional newline, and nothing else: a stray file is not taken for a pid.
  long long pid = 0;
  ssize_t i = 0;
  for (; i < got && text[i] >= '0' && text[i] <= '9' && pid < 1'000'000'000; ++i) pid = pid * 10 + (text[i] - '0');
  const bool digits = i > 0;
  if (i < got && text[i] == '\n') ++i;
  if (!digits || i != got || pid <= 0 || pid >= 1'000'000'000) {
    if (error) *error = path + " does not hold a process id";
    return std::nullopt;
  }
  return static_cast<pid_t>(pid);
}

}  // namespace fulcrum::process
