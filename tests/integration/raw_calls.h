// Calls below the SDK: generic gRPC calls with hand-encoded messages (for grpc.health.v1
// and reflection, whose generated code is not installed) and a plain HTTP GET.
#ifndef FEDHUB_TESTS_INTEGRATION_RAW_CALLS_H_
#define FEDHUB_TESTS_INTEGRATION_RAW_CALLS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/strings.h"

namespace fedhub::testing {

inline grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

inline absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

// One unary call of `method` ("/package.Service/Method") with a serialised request.
inline absl::StatusOr<std::string> RawUnary(const std::shared_ptr<grpc::Channel>& channel,
                                            const std::string& method, const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareUnaryCall(&ctx, method, ToBuffer(request), &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpc(status);
  return FromBuffer(response);
}

// A bidirectional call that sends one request, half-closes and reads one response.
inline absl::StatusOr<std::string> RawBidiOnce(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& method, const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  void* tag = nullptr;
  bool ok = false;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  call->Write(ToBuffer(request), reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  const bool got_response = ok;
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpc(status);
  if (!got_response) return absl::InternalError("stream ended without a response");
  return FromBuffer(response);
}

// grpc.health.v1.Health/Check for the whole server (service ""). Returns the serving
// status enum value (1 = SERVING).
inline absl::StatusOr<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  auto r = RawUnary(channel, "/grpc.health.v1.Health/Check", "");
  if (!r.ok()) return r.status();
  if (r->empty()) return 0;  // UNKNOWN is encoded as no field at all
  if (r->size() != 2 || (*r)[0] != 0x08) return absl::InternalError("unexpected HealthCheckResponse");
  return static_cast<int>((*r)[1]);
}

// grpc.reflection.v1alpha list_services: the raw response (service names appear in it).
inline absl::StatusOr<std::string> ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel) {
  // ServerReflectionRequest { list_services = "*" } (field 7, length-delimited).
  return RawBidiOnce(channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                     std::string("\x3a\x01*", 3));
}

// GET `path` from 127.0.0.1:`port` over HTTP/1.0; the whole response (headers and body).
inline absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(Cat("cannot connect to port ", port));
  }
  std::string request = Cat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::InternalError("send failed");
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_INTEGRATION_RAW_CALLS_H_
