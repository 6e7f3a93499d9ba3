// gRPC's synchronous streaming calls behind the SDK's stream interfaces. The rules gRPC
// imposes, and that these classes keep for their callers: the ClientContext outlives the
// call object, no Read after a Read returned false, and Finish runs exactly once, only when
// no more messages can arrive (otherwise it would block), which an early Finish or the
// destructor ensures by cancelling and draining first.
#include "client/grpc_streams.h"

#include <atomic>
#include <functional>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "client/grpc_status.h"

namespace fedhub::client {
namespace {

// A server-streaming call (WatchConsents, Subscribe) as `Interface`.
//
// Thread-safety: Read and Finish from one thread; Cancel from any thread.
template <typename Interface, typename Response>
class GrpcReadStream final : public Interface {
 public:
  using Open = std::function<std::unique_ptr<grpc::ClientReader<Response>>(grpc::ClientContext*)>;

  explicit GrpcReadStream(const Open& open)
      : context_(std::make_unique<grpc::ClientContext>()), reader_(open(context_.get())) {}

  ~GrpcReadStream() override {
    if (!finished_) Finish().IgnoreError();
  }

  bool Read(Response* message) override {
    if (finished_ || read_done_) return false;
    if (reader_->Read(message)) return true;
    read_done_ = true;
    return false;
  }

  absl::Status Finish() override {
    if (!finished_) {
      if (!read_done_) {
        context_->TryCancel();
        Response discard;
        while (reader_->Read(&discard)) {
        }
        read_done_ = true;
      }
      final_status_ = FromGrpcStatus(reader_->Finish());
      finished_ = true;
    }
    return final_status_;
  }

  void Cancel() override { context_->TryCancel(); }  // thread-safe in gRPC

 private:
  // Declared first: destroyed after the reader.
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<Response>> reader_;
  bool read_done_ = false;
  bool finished_ = false;
  absl::Status final_status_;
};

// One Publish call.
//
// Thread-safety: Write and WritesDone from one thread, Read from another, Cancel from any;
// Finish (and destruction) when neither Write nor Read is running.
class GrpcPublishStream final : public PublishStream {
 public:
  explicit GrpcPublishStream(v1::StreamService::Stub& stub)
      : context_(std::make_unique<grpc::ClientContext>()), stream_(stub.Publish(context_.get())) {}

  ~GrpcPublishStream() override {
    if (!finished_) Finish().IgnoreError();
  }

  bool Write(const v1::PublishRequest& batch) override {
    if (writes_done_) return false;
    return stream_->Write(batch);
  }

  bool Read(v1::PublishResponse* ack) override {
    if (read_done_.load()) return false;
    if (stream_->Read(ack)) return true;
    read_done_.store(true);
    return false;
  }

  void WritesDone() override {
    if (writes_done_) return;
    writes_done_ = true;
    // False only when the call is already over, which Read and Finish report.
    stream_->WritesDone();
  }

  absl::Status Finish() override {
    if (!finished_) {
      if (!read_done_.load()) {
        context_->TryCancel();
        v1::PublishResponse discard;
        while (stream_->Read(&discard)) {
        }
        read_done_.store(true);
      }
      final_status_ = FromGrpcStatus(stream_->Finish());
      finished_ = true;
    }
    return final_status_;
  }

  void Cancel() override { context_->TryCancel(); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PublishRequest, v1::PublishResponse>> stream_;
  bool writes_done_ = false;            // the writing thread's
  std::atomic<bool> read_done_{false};  // set by the reading thread, read by Finish
  bool finished_ = false;
  absl::Status final_status_;
};

}  // namespace

std::unique_ptr<ConsentWatchStream> OpenWatchConsents(v1::ConsentService::Stub& stub,
                                                      const v1::WatchConsentsRequest& request) {
  return std::make_unique<GrpcReadStream<ConsentWatchStream, v1::WatchConsentsResponse>>(
      [&](grpc::ClientContext* context) { return stub.WatchConsents(context, request); });
}

std::unique_ptr<PublishStream> OpenPublish(v1::StreamService::Stub& stub) {
  return std::make_unique<GrpcPublishStream>(stub);
}

std::unique_ptr<SubscribeStream> OpenSubscribe(v1::StreamService::Stub& stub,
                                               const v1::SubscribeRequest& request) {
  return std::make_unique<GrpcReadStream<SubscribeStream, v1::SubscribeResponse>>(
      [&](grpc::ClientContext* context) { return stub.Subscribe(context, request); });
}

}  // namespace fedhub::client
