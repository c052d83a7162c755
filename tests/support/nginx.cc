#include "support/nginx.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/http_backend.h"
#include "support/sockets.h"

namespace fulcrum::test {

bool Nginx::available() { return access(kBinary, X_OK) == 0; }

Nginx::Nginx(std::uint64_t big_file_bytes, bool access_log) {
  static std::atomic<int> counter{0};
  dir_ = (std::filesystem::temp_directory_path() /
          ("fulcrum-nginx-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
             .string();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_ + "/files");
  std::filesystem::create_directories(dir_ + "/tmp");
  std::filesystem::create_directories(dir_ + "/logs");
  if (big_file_bytes > 0) {
    std::ofstream file(dir_ + "/files/big.bin", std::ios::binary);
    std::string block(1 << 20, '\0');
    for (std::uint64_t offset = 0; offset < big_file_bytes; offset += block.size()) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), big_file_bytes - offset));
      fill_pattern(block.data(), n, offset);
      file.write(block.data(), static_cast<std::streamsize>(n));
    }
  }

  // The port: free a moment ago. Another process could take it in between; then nginx fails to
  // bind, and we try another one.
  for (int attempt = 0; attempt < 5 && address_.empty(); ++attempt) {
    const std::string address = reserve_loopback_address();
    const std::string conf = dir_ + "/nginx.conf";
    std::ofstream(conf) << "daemon off;\n"
                           "master_process off;\n"
                           "worker_processes 1;\n"
                           "pid " << dir_ << "/nginx.pid;\n"
                           "error_log " << dir_ << "/logs/error.log warn;\n"
                           "events { worker_connections 4096; }\n"
                           "http {\n"
                        << (access_log ? "  access_log " + dir_ + "/logs/access.log;\n" : std::string("  access_log off;\n"))
                        << "  client_body_temp_path " << dir_ << "/tmp/body;\n"
                           "  proxy_temp_path " << dir_ << "/tmp/proxy;\n"
                           "  fastcgi_temp_path " << dir_ << "/tmp/fastcgi;\n"
                           "  uwsgi_temp_path " << dir_ << "/tmp/uwsgi;\n"
                           "  scgi_temp_path " << dir_ << "/tmp/scgi;\n"
                           "  keepalive_requests 1000000;\n"
                           "  keepalive_timeout 60s;\n"
                           "  sendfile on;\n"
                           "  default_type application/octet-stream;\n"
                           "  server {\n"
                           "    listen " << address << ";\n"
                           "    location = / { default_type text/plain; return 200 \"nginx\\n\"; }\n"
                           "    location = /headers {\n"
                           "      default_type text/plain;\n"
                           "      return 200 \"host=$http_host\\nxff=$http_x_forwarded_for\\n"
                           "xfp=$http_x_forwarded_proto\\nxfh=$http_x_forwarded_host\\n"
                           "forwarded=$http_forwarded\\nrequest-id=$http_x_request_id\\n"
                           "connection=$http_connection\\nte=$http_te\\nfoo=$http_foo\\nuri=$request_uri\\n\";\n"
                           "    }\n"
                           "    location /files/ { alias " << dir_ << "/files/; }\n"
                           "  }\n"
                           "}\n";
    process_ = std::make_unique<Process>(std::vector<std::string>{kBinary, "-p", dir_ + "/", "-c", conf, "-e",
                                                                  dir_ + "/logs/error.log"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && process_->running()) {
      if (Client::connect(address, std::chrono::milliseconds(200)).valid()) {
        address_ = address;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (address_.empty()) process_.reset();  // kills and reaps
  }
  if (address_.empty()) {
    std::ifstream log(dir_ + "/logs/error.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << "nginx did not start; error.log:\n" << text;
  }
}

std::size_t Nginx::requests_logged() const {
  std::ifstream log(dir_ + "/logs/access.log");
  std::size_t lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  return lines;
}

Nginx::~Nginx() {
  process_.reset();  // SIGKILL + waitpid
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace fulcrum::test
