#include "support/etcd_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "client/http_client.h"
#include "cluster/etcd_json.h"
#include "support/fulcrum_process.h"
#include "support/sockets.h"

namespace fulcrum::test {

std::string etcd_binary() {
  if (const char* explicit_path = std::getenv("FULCRUM_ETCD"); explicit_path && *explicit_path) return explicit_path;
  for (const char* candidate : {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

EtcdProcess::EtcdProcess() {
  directory_ = (std::filesystem::path(write_temp_file("etcd-placeholder", "")).parent_path() /
                ("etcd-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this))))
                   .string();
  std::filesystem::remove_all(directory_);
  // The ports were free a moment ago; another test may take one meanwhile: new ports, up to 3 times.
  for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
    endpoint_ = "http://" + reserve_loopback_address();
    peer_ = "http://" + reserve_loopback_address();
    launch();
    if (!ready_) {
      stop();
      std::filesystem::remove_all(directory_);
    }
  }
  if (!ready_) ADD_FAILURE() << "etcd did not start (3 attempts); the last at " << endpoint_;
}

EtcdProcess::~EtcdProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void EtcdProcess::start() {
  launch();
  if (!ready_) ADD_FAILURE() << "etcd did not start again at " << endpoint_ << ":\n" << process_->all_output();
}

void EtcdProcess::launch() {
  ready_ = false;
  process_ = std::make_unique<Process>(std::vector<std::string>{
      etcd_binary(), "--name", "test", "--data-dir", directory_, "--listen-client-urls", endpoint_,
      "--advertise-client-urls", endpoint_, "--listen-peer-urls", peer_, "--initial-advertise-peer-urls", peer_,
      "--initial-cluster", "test=" + peer_, "--log-level", "warn", "--logger", "zap"});
  ready_ = wait_ready();
}

void EtcdProcess::stop() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(5));
  process_.reset();
  ready_ = false;
}

bool EtcdProcess::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) return false;
    const std::string answer = call("/v3/kv/range", cluster::range_body("/ready-probe"));
    if (answer.find("\"header\"") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string EtcdProcess::call(const std::string& path, const std::string& body) const {
  client::HttpRequest request;
  request.method = "POST";
  request.url = endpoint_ + path;
  request.body = body;
  request.timeout = std::chrono::milliseconds(2000);
  const auto response = client::request(request);
  return response.answered() ? response.body : std::string();
}

std::string EtcdProcess::dump(const std::string& prefix) const {
  const auto range = cluster::parse_range(call("/v3/kv/range", cluster::range_body(prefix)));
  std::string text;
  for (const auto& kv : range.kvs) text += kv.key + "=" + kv.value + "\n";
  return text;
}

bool EtcdProcess::put(const std::string& key, const std::string& value) const {
  return call("/v3/kv/put", cluster::put_body(key, value, 0)).find("\"header\"") != std::string::npos;
}

}  // namespace fulcrum::test
