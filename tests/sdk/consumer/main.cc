// Uses the installed SDK the way a member platform does and checks the behaviour that
// needs no hub: argument errors, an unreachable hub (for unary calls and for the publisher),
// and offline receipt verification.
//
//   fedhub_consumer <certs_dir> <unreachable_endpoint>
//
// <certs_dir> holds ca.crt, courses.crt and courses.key. Exits 0 when every check passes.
#include <cstdio>
#include <string>
#include <string_view>

#include "fedhub/client.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"
#include "fedhub/publisher.h"
#include "fedhub/subscription.h"
#include "fedhub/v1/hub.grpc.pb.h"
#include "fedhub/verify.h"

namespace {

int failures = 0;

void Check(bool ok, const char* what, const absl::Status& status = absl::OkStatus()) {
  std::string message(status.message().data(), status.message().size());
  std::printf("%s: %s%s%s\n", ok ? "ok  " : "FAIL", what, status.ok() ? "" : " -> ",
              status.ok() ? "" : (absl::StatusCodeToString(status.code()) + ": " + message).c_str());
  if (!ok) ++failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <certs_dir> <unreachable_endpoint>\n", argv[0]);
    return 2;
  }
  const std::string certs_dir = argv[1];
  const std::string endpoint = argv[2];

  fedhub::ClientOptions options = fedhub::ClientOptions::ForPrincipal(certs_dir, "courses", endpoint);
  Check(options.endpoint == endpoint && options.ca_cert_file == certs_dir + "/ca.crt" &&
            options.cert_file == certs_dir + "/courses.crt" &&
            options.key_file == certs_dir + "/courses.key",
        "ForPrincipal lays out the certificate paths");
  options.deadline = std::chrono::milliseconds(3000);
  options.retry.initial_backoff = std::chrono::milliseconds(5);
  options.retry.max_attempts = 2;

  // A missing certificate is reported before any connection is attempted.
  fedhub::ClientOptions missing = fedhub::ClientOptions::ForPrincipal(certs_dir, "nobody", endpoint);
  auto no_client = fedhub::Client::Connect(missing);
  Check(!no_client.ok() && no_client.status().code() == absl::StatusCode::kInvalidArgument,
        "Connect with a missing certificate is INVALID_ARGUMENT", no_client.status());

  // The channel connects lazily: Connect succeeds, the first call finds the hub missing.
  auto client = fedhub::Client::Connect(options);
  Check(client.ok(), "Connect to an unreachable hub succeeds lazily", client.status());
  if (client.ok()) {
    auto info = client->GetHubInfo();
    Check(!info.ok() && info.status().code() == absl::StatusCode::kUnavailable,
          "GetHubInfo on an unreachable hub is UNAVAILABLE", info.status());
  }

  // The publisher and the subscription check their arguments; against an unreachable hub
  // a published event fails once the reconnect policy gives up.
  if (client.ok()) {
    fedhub::PublisherOptions bad_options;
    bad_options.max_batch_events = 0;
    auto bad_publisher = client->NewPublisher(bad_options);
    Check(bad_publisher.status().code() == absl::StatusCode::kInvalidArgument,
          "NewPublisher with max_batch_events 0 is INVALID_ARGUMENT", bad_publisher.status());

    fedhub::PublisherOptions publisher_options;
    publisher_options.reconnect.initial_backoff = std::chrono::milliseconds(5);
    publisher_options.reconnect.total_timeout = std::chrono::milliseconds(200);
    auto publisher = client->NewPublisher(publisher_options);
    Check(publisher.ok(), "NewPublisher with default options starts", publisher.status());
    if (publisher.ok()) {
      fedhub::v1::PublishEvent event;
      event.set_event_id("consumer-1");
      event.mutable_catalogue()->mutable_item()->set_item_id("item-1");
      event.mutable_catalogue()->set_removed(true);
      absl::StatusOr<uint64_t> offset = (*publisher)->Publish(event).get();
      Check(offset.status().code() == absl::StatusCode::kUnavailable,
            "an event published to an unreachable hub fails UNAVAILABLE", offset.status());
    }

    auto subscription = client->Subscribe(fedhub::SubscriptionOptions{}, nullptr);
    const absl::Status ended = subscription->Wait();
    Check(ended.code() == absl::StatusCode::kInvalidArgument,
          "Subscribe without a handler ends INVALID_ARGUMENT", ended);
  }

  // Offline verification with the wrong sizes.
  fedhub::v1::ConsentReceipt receipt;
  receipt.set_body("body");
  receipt.set_signature(std::string(10, 's'));
  auto short_signature = fedhub::VerifyReceipt(receipt, std::string(32, 'k'));
  Check(short_signature.status().code() == absl::StatusCode::kInvalidArgument,
        "VerifyReceipt with a 10-byte signature is INVALID_ARGUMENT", short_signature.status());
  receipt.set_signature(std::string(64, 's'));
  auto short_key = fedhub::VerifyReceipt(receipt, std::string_view("tooshort"));
  Check(short_key.status().code() == absl::StatusCode::kInvalidArgument,
        "VerifyReceipt with an 8-byte key is INVALID_ARGUMENT", short_key.status());
  auto forged = fedhub::VerifyReceipt(receipt, std::string(32, 'k'));
  Check(forged.status().code() == absl::StatusCode::kUnauthenticated ||
            forged.status().code() == absl::StatusCode::kInvalidArgument,
        "VerifyReceipt rejects a forged signature", forged.status());

  // Chain verification of an empty chain against an empty head.
  fedhub::ChainVerifier verifier(fedhub::v1::CHAIN_AUDIT);
  fedhub::v1::ChainHead head;
  head.set_head_hash(std::string(32, '\0'));
  Check(verifier.CheckHead(head).ok(), "ChainVerifier accepts an empty chain");

  // The installed generated code carries the contract's names.
  Check(std::string(fedhub::v1::HubService::service_full_name()) == "fedhub.v1.HubService" &&
            fedhub::v1::GetHubInfoResponse::descriptor()->full_name() == "fedhub.v1.GetHubInfoResponse",
        "generated service and message names are the contract's");

  std::printf("%s\n", failures == 0 ? "all checks passed" : "some checks FAILED");
  return failures == 0 ? 0 : 1;
}
