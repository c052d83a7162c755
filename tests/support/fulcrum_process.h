// The real fulcrum binary under test: writes a config, runs `fulcrum run` with JSON logs, and
// learns from the `listening` log lines where each listener was bound (configs use port 0).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace fulcrum::test {

/// Path of the fulcrum binary built with the tests.
std::string fulcrum_binary();

/// Writes `content` to a new file in a per-test temporary directory; returns its path.
std::string write_temp_file(const std::string& name, const std::string& content);

class FulcrumProcess {
 public:
  /// Starts `fulcrum run -c <yaml written to a file> --log-format json [extra...]` and waits up to
  /// 10 s until `listeners` listeners logged that they listen. Fails the test (ADD_FAILURE) and
  /// returns a process with no addresses if that does not happen.
  explicit FulcrumProcess(const std::string& yaml, std::size_t listeners = 1,
                          std::vector<std::string> extra_args = {});
  /// Fails the test if the process logged that a batched send's bookkeeping went wrong (checks in
  /// src/http/http_session.cc and session_socket.cc that cut the connection rather than corrupt a
  /// stream): every test that runs the binary also checks that they never fire.
  ~FulcrumProcess();
  FulcrumProcess(const FulcrumProcess&) = delete;
  FulcrumProcess& operator=(const FulcrumProcess&) = delete;

  /// `127.0.0.1:PORT` of the named listener ("" if unknown).
  std::string address(const std::string& listener) const;
  Process& process() { return *process_; }
  const std::string& config_path() const { return config_path_; }
  /// Counts the JSON log lines whose "msg" is `message`, after reading what the process wrote.
  std::size_t count_log(const std::string& message);

 private:
  std::string config_path_;
  std::unique_ptr<Process> process_;
  std::map<std::string, std::string> addresses_;
};

}  // namespace fulcrum::test
