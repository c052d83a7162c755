// Embedding Fulcrum: a TCP balancer built in code, in a dozen lines.
//
//   ./embedded_balancer 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002
//
// balances connections to 127.0.0.1:7000 over the given backends by least connections until
// Ctrl-C. The same Config can come from YAML with fulcrum::load_config_file().
#include <fulcrum/balancer.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " LISTEN BACKEND [BACKEND...]\n";
    return 2;
  }
  fulcrum::Config config;
  config.listeners.push_back({.name = "app", .listen = argv[1], .pool = "app"});
  fulcrum::PoolConfig pool{.name = "app", .strategy = "least_connections"};
  for (int i = 2; i < argc; ++i) pool.backends.push_back({.address = argv[i]});
  config.pools.push_back(pool);

  if (auto errors = fulcrum::validate_config(config); !errors.empty()) {
    for (const auto& e : errors) std::cerr << e.to_string() << '\n';
    return 2;
  }
  fulcrum::Balancer balancer(config);
  return balancer.run();  // until SIGINT/SIGTERM, then drains open connections
}
