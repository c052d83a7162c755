// Debian's nginx (/usr/sbin/nginx, from scripts/install-deps.sh) as a third-party origin for
// integration tests: a temp prefix with its own config, one process (`daemon off; master_process
// off`) on a free loopback port, killed and reaped by the destructor.
//
// Locations:
//   /          `nginx\n`
//   /headers   what nginx saw: `host=`, `xff=`, `xfp=`, `xfh=`, `forwarded=`, `request-id=`,
//              `connection=`, `te=`, `uri=` lines (request header variables)
//   /files/    static files from files_dir() (sendfile), e.g. the big file
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "support/process.h"

namespace fulcrum::test {

class Nginx {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nginx";
  /// True when the binary is installed.
  static bool available();

  /// Starts nginx; with `big_file_bytes`, first writes files_dir()/big.bin with that many bytes of
  /// the pattern stream (fill_pattern). With `access_log`, every request is logged (unbuffered),
  /// so that requests_logged() counts what nginx served. Fails the test (ADD_FAILURE) when nginx
  /// does not come up.
  explicit Nginx(std::uint64_t big_file_bytes = 0, bool access_log = false);
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  bool running() const { return !address_.empty(); }
  /// `127.0.0.1:PORT`.
  const std::string& address() const { return address_; }
  std::string files_dir() const { return dir_ + "/files"; }
  /// Lines of the access log so far: the requests nginx answered (0 without `access_log`).
  std::size_t requests_logged() const;

 private:
  std::string dir_;
  std::string address_;
  std::unique_ptr<Process> process_;
};

}  // namespace fulcrum::test
