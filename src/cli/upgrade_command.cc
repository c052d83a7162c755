#include "cli/upgrade_command.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

#include "cli/exit_codes.h"
#include "cli/process_commands.h"
#include "config/duration.h"
#include "process/upgrade.h"
#include "process/upgrade_pid_file.h"

namespace fulcrum::cli {
namespace {

bool alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

UpgradeCommand::UpgradeCommand(CLI::App& app) {
  upgrade_ = app.add_subcommand("upgrade", "Start the new binary in place of the running one, without dropping a connection");
  upgrade_->add_option("--pid-file", pid_file_,
                       std::string("The running balancer's pid file (default: -c's pid_file, else ") + kDefaultPidFile + ")");
  upgrade_->add_option("-c,--config", config_path_, "Take the pid file from this configuration's pid_file");
  upgrade_->add_option("--timeout", timeout_, "How long to wait for the outcome")->capture_default_str();
}

int UpgradeCommand::run() {
  const auto timeout = config::parse_duration_text(timeout_);
  if (!timeout.duration || timeout.duration->count() <= 0) {
    std::cerr << "upgrade: --timeout: '" << timeout_ << "' is not a positive duration (e.g. 40s)\n";
    return kExitUsage;
  }
  pid_file_ = pid_file_for(pid_file_, config_path_, "upgrade");
  if (pid_file_.empty()) return kExitUsage;
  const pid_t old_pid = process::read_pid(pid_file_);
  if (old_pid <= 0) {
    std::cerr << "upgrade: " << pid_file_ << " names no process\n";
    return kExitFailure;
  }
  if (!alive(old_pid)) {
    std::cerr << "upgrade: process " << old_pid << " (from " << pid_file_ << ") is not running\n";
    return kExitFailure;
  }
  const pid_t draining = process::read_pid(process::oldbin_path(pid_file_));
  if (alive(draining)) {
    std::cerr << "upgrade: refused: the old process " << draining
              << " is still draining after the last upgrade (at most one old process at a time)\n";
    return kExitFailure;
  }

  // The answer is a queued SIGUSR2: blocked before asking, so it waits for sigtimedwait().
  sigset_t answer;
  sigemptyset(&answer);
  sigaddset(&answer, SIGUSR2);
  sigprocmask(SIG_BLOCK, &answer, nullptr);
  sigval request{};
  request.sival_int = process::kUpgradeRequestValue;
  if (sigqueue(old_pid, SIGUSR2, request) != 0) {
    std::cerr << "upgrade: cannot signal process " << old_pid << ": " << std::strerror(errno) << '\n';
    return kExitFailure;
  }

  const auto deadline = std::chrono::steady_clock::now() + *timeout.duration;
  pid_t new_pid = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    const timespec poll{0, 100'000'000};
    siginfo_t info{};
    if (sigtimedwait(&answer, &info, &poll) == SIGUSR2 && info.si_code == SI_QUEUE && info.si_pid == old_pid) {
      const int value = info.si_value.sival_int;
      if (value == process::kUpgradeAnswerRefused) {
        std::cerr << "upgrade: refused by process " << old_pid << " (an upgrade is in progress or an old process "
                  << "still drains; its log says which)\n";
        return kExitFailure;
      }
      if (value <= 0) {
        std::cerr << "upgrade: failed; process " << old_pid
                  << " keeps serving (its log and the upgrade_failed event say why)\n";
        return kExitFailure;
      }
      new_pid = value;
    }
    // The pidfile names the new process once it is ready (also how an answer lost is made up for).
    const pid_t named = process::read_pid(pid_file_);
    if (named > 0 && named != old_pid && (new_pid < 0 || named == new_pid) && alive(named)) {
      std::cout << "upgraded: process " << named << " serves; process " << old_pid << " drains and exits\n";
      return kExitOk;
    }
    if (new_pid < 0 && !alive(old_pid)) {
      std::cerr << "upgrade: process " << old_pid << " exited without naming a new process in " << pid_file_ << '\n';
      return kExitFailure;
    }
  }
  std::cerr << "upgrade: no outcome within " << timeout_ << " (process " << old_pid << ")\n";
  return kExitFailure;
}

}  // namespace fulcrum::cli
