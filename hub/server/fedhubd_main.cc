// fedhubd: the FedHub hub. See docs/getting-started.md and docs/operations.md.
#include <csignal>
#include <iostream>
#include <thread>

#include "app/hub.h"
#include "config/config.h"
#include "server/server.h"

namespace {

// Blocks SIGINT/SIGTERM in every thread and waits for one in a dedicated thread, so the
// shutdown runs as ordinary code rather than in a signal handler.
int WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << fedhub::config::Usage();
    return 0;
  }
  auto config = fedhub::config::FromArgs(argc, argv);
  if (!config.ok()) {
    std::cerr << "fedhubd: " << config.status().message() << "\n";
    return 64;
  }
  auto hub = fedhub::Hub::Open(*config);
  if (!hub.ok()) {
    std::cerr << "fedhubd: " << hub.status().message() << "\n";
    return 1;
  }
  auto server = fedhub::server::Server::Start(**hub);
  if (!server.ok()) {
    std::cerr << "fedhubd: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "fedhubd " << FEDHUB_VERSION << " listening on " << config->listen << " (port "
            << (*server)->port() << ", mutual TLS)";
  if ((*server)->metrics_port() != 0) std::cout << ", metrics on port " << (*server)->metrics_port();
  if ((*server)->health_port() != 0) std::cout << ", plaintext health on port " << (*server)->health_port();
  std::cout << "; data in " << config->data_dir << ", signing key " << (*hub)->signing_key().key_id()
            << std::endl;

  int sig = WaitForSignal();
  std::cout << "fedhubd: signal " << sig << ", shutting down" << std::endl;
  (*server)->Shutdown();
  server->reset();
  hub->reset();
  std::cout << "fedhubd: stopped" << std::endl;
  return 0;
}
