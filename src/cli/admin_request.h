// One admin API request made by a subcommand (`fulcrum backend ...`, `fulcrum pool ...`), with the
// conventions they share: the answer's JSON on stdout and exit 0; the server's error (or why there
// was no answer) on stderr and exit 1; arguments that make no request, exit 2.
#pragma once

#include <string>

namespace fulcrum::cli {

/// A request built from a subcommand's arguments; `error` set (and nothing else) when they
/// cannot make one.
struct AdminRequest {
  std::string method;
  std::string url;
  std::string body;
  std::string error;
};

/// Sends `request` with `token` (may be empty) and reports as above, each message after `prefix`
/// (`fulcrum pool pause: `). Returns the exit code.
int run_admin_request(const std::string& prefix, const AdminRequest& request, const std::string& token);

}  // namespace fulcrum::cli
