#include "cli/process_commands.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/exit_codes.h"
#include "client/api_answer.h"
#include "client/http_client.h"
#include "client/url.h"
#include "fulcrum/config.h"
#include "process/pid_file.h"

namespace fulcrum::cli {
namespace {

/// Whether `pid` is still a live process. A zombie (exited, not yet reaped by its parent) counts
/// as gone: it serves nothing and kill() would still find it.
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == EPERM;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // `pid (comm) S ...`: the state follows the last ')' (comm may itself hold parentheses).
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return true;  // kill() found it
  return text[close + 2] != 'Z' && text[close + 2] != 'X';
}

std::optional<pid_t> read_pid(const std::string& path, const char* command) {
  std::string error;
  auto pid = process::read_pid_file(path, &error);
  if (!pid) std::cerr << "fulcrum " << command << ": " << error << " (is Fulcrum running?)\n";
  return pid;
}

/// Sends `signal_number` to `pid`; prints why not and returns false when that fails.
bool send_signal(pid_t pid, int signal_number, const std::string& pid_file, const char* command) {
  if (::kill(pid, signal_number) == 0) return true;
  if (errno == ESRCH) {
    std::cerr << "fulcrum " << command << ": no process " << pid << " (" << pid_file << " is stale)\n";
  } else {
    std::cerr << "fulcrum " << command << ": cannot signal process " << pid << ": " << std::strerror(errno) << '\n';
  }
  return false;
}

}  // namespace

ProcessCommands::ProcessCommands(CLI::App& app) {
  stop_ = app.add_subcommand("stop", "Stop a running Fulcrum (SIGTERM) and wait until it has exited");
  reload_ = app.add_subcommand("reload", "Reload a running Fulcrum's configuration (admin API or SIGHUP)");
  for (CLI::App* command : {stop_, reload_}) {
    command->add_option("--pid-file", pid_file_, std::string("The running process's pid file (default: -c's pid_file, else ") +
                                                     kDefaultPidFile + ")");
    command->add_option("-c,--config", config_path_, "Take the pid file from this configuration's pid_file");
  }
  stop_->add_option("--timeout", timeout_, "How long to wait for the exit (it drains first)")->capture_default_str();
  auto* admin = reload_->add_option("--admin", admin_url_, "Reload through the admin API at this URL and print the outcome");
  reload_->add_option("--token", token_, "admin.token (default: $FULCRUM_TOKEN)")->envname("FULCRUM_TOKEN");
  admin->excludes(reload_->get_option("--pid-file"));
}

int ProcessCommands::run() {
  if (*stop_) return stop();
  if (*reload_) return admin_url_.empty() ? reload() : reload_through_admin();
  return kExitUsage;
}

std::string pid_file_for(const std::string& pid_file, const std::string& config_path, const char* command) {
  if (!pid_file.empty()) return pid_file;
  if (config_path.empty()) return kDefaultPidFile;
  const ConfigLoadResult loaded = load_config_file(config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << error.to_string() << '\n';
    std::cerr << "fulcrum " << command << ": cannot take pid_file from " << config_path << "; give --pid-file\n";
    return {};
  }
  if (loaded.config->pid_file.empty()) {
    std::cerr << "fulcrum " << command << ": " << config_path << " sets no pid_file; give --pid-file\n";
    return {};
  }
  return loaded.config->pid_file;
}

std::string ProcessCommands::pid_file_path(const char* command) {
  return pid_file_for(pid_file_, config_path_, command);
}

int ProcessCommands::stop() {
  const auto timeout = parse_duration(timeout_);
  if (!timeout || timeout->count() <= 0) {
    std::cerr << "fulcrum stop: --timeout: '" << timeout_ << "' is not a duration (e.g. 30s, 1m)\n";
    return kExitUsage;
  }
  const std::string path = pid_file_path("stop");
  if (path.empty()) return kExitUsage;
  const auto pid = read_pid(path, "stop");
  if (!pid) return kExitFailure;
  if (!alive(*pid)) {
    std::cerr << "fulcrum stop: no process " << *pid << " (" << path << " is stale)\n";
    return kExitFailure;
  }
  if (!send_signal(*pid, SIGTERM, path, "stop")) return kExitFailure;
  // It drains first (drain_timeout): poll until it is gone, up to --timeout.
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  while (alive(*pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "fulcrum stop: process " << *pid << " is still running " << timeout_
                << " after SIGTERM (still draining? see drain_timeout); it was not killed\n";
      return kExitFailure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cout << "fulcrum (pid " << *pid << ") stopped\n";
  return kExitOk;
}

int ProcessCommands::reload() {
  const std::string path = pid_file_path("reload");
  if (path.empty()) return kExitUsage;
  const auto pid = read_pid(path, "reload");
  if (!pid) return kExitFailure;
  if (!alive(*pid)) {
    std::cerr << "fulcrum reload: no process " << *pid << " (" << path << " is stale)\n";
    return kExitFailure;
  }
  if (!send_signal(*pid, SIGHUP, path, "reload")) return kExitFailure;
  // A signal carries no answer: say what was done, not what came of it.
  std::cout << "sent SIGHUP to fulcrum (pid " << *pid
            << "): the outcome is in its log (\"configuration reloaded\" or \"reload failed\"); "
               "`fulcrum reload --admin URL` waits for it and prints it\n";
  return kExitOk;
}

int ProcessCommands::reload_through_admin() {
  const std::string base = client::normalize_base_url(admin_url_);
  if (base.empty()) {
    std::cerr << "fulcrum reload: --admin: '" << admin_url_ << "' is not an http:// or https:// URL\n";
    return kExitUsage;
  }
  const std::string url = base + "/api/reload";
  // A reload validates a whole file and may resolve names: give it time.
  const auto response = client::request(
      {.method = "POST", .url = url, .bearer_token = token_, .timeout = std::chrono::seconds(30)});
  const auto document = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.status == 400 && document.is_object() && document.contains("errors") && document["errors"].is_array()) {
    std::cerr << "fulcrum reload: refused, nothing changed:\n";
    for (const auto& error : document["errors"]) std::cerr << "  " << (error.is_string() ? error.get<std::string>() : error.dump()) << '\n';
    return kExitFailure;
  }
  if (!client::succeeded(response) || !document.is_object()) {
    std::cerr << "fulcrum reload: " << (response.answered() ? "" : url + ": ") << client::failure_text(response) << '\n';
    return kExitFailure;
  }
  const auto changes = document.value("changes", nlohmann::json::array());
  const auto generation = document.value("generation", nlohmann::json());
  std::cout << "reloaded: generation " << (generation.is_number() ? generation.dump() : "?") << ", " << changes.size()
            << (changes.size() == 1 ? " change" : " changes") << '\n';
  for (const auto& change : changes) std::cout << "  " << (change.is_string() ? change.get<std::string>() : change.dump()) << '\n';
  for (const auto& note : document.value("restart_required", nlohmann::json::array())) {
    std::cout << "  not applied: " << (note.is_string() ? note.get<std::string>() : note.dump()) << '\n';
  }
  return kExitOk;
}

}  // namespace fulcrum::cli
