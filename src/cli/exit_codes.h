// The exit codes every `fulcrum` subcommand shares.
#pragma once

namespace fulcrum::cli {

constexpr int kExitOk = 0;
/// The operation failed: the server refused it, could not be reached, the balancer could not start.
constexpr int kExitFailure = 1;
/// Bad usage or an invalid configuration: nothing was attempted.
constexpr int kExitUsage = 2;

}  // namespace fulcrum::cli
