// fedhubctl receipt verify: checks a consent receipt's signature, offline with a key file
// or with the key the hub reports, and shows what it attests.
#include <iostream>

#include "command.h"
#include "consent_io.h"
#include "fedhub/verify.h"
#include "names.h"

namespace fedhubctl {
namespace {

int RunVerify(Context& ctx, const ParsedArgs& args) {
  auto receipt = ReadReceipt(args.positional(0));
  if (!receipt.ok()) return Fail(receipt.status());

  std::string key;
  std::string key_source;
  if (args.Has("hub-key")) {
    auto pem = ReadFile(args.Get("hub-key"));
    if (!pem.ok()) return Fail(pem.status());
    auto raw = fedhub::HubPublicKeyFromPem(*pem);
    if (!raw.ok()) {
      return Fail(absl::Status(raw.status().code(),
                               args.Get("hub-key") + ": " + std::string(raw.status().message())));
    }
    key = *raw;
    key_source = "from " + args.Get("hub-key") + ", offline";
  } else {
    auto client = ctx.Connect();
    if (!client.ok()) return Fail(client.status());
    auto info = client->GetHubInfo();
    if (!info.ok()) return Fail(info.status());
    key = info->signing_public_key();
    key_source = "as reported by the hub";
  }
  const std::string key_id = fedhub::HubKeyId(key);

  auto body = fedhub::VerifyReceipt(*receipt, key);
  if (!body.ok()) {
    const std::string problem = std::string(body.status().message());
    ctx.out().Result(
        JsonObject().Bool("verified", false).Str("key_id", key_id).Str("problem", problem),
        "NOT VERIFIED with hub key " + key_id + " (" + key_source + "): " + problem);
    return kExitFailed;
  }
  std::string text = "verified with hub key " + key_id + " (" + key_source + ")" +
                     "\naction      " + Name(body->action()) + "\nissued to   " +
                     body->issued_to_platform_id() + "\nissued at   " +
                     FormatTime(body->issued_at()) + "\nledger      entry " +
                     std::to_string(body->ledger_sequence()) + ", hash " +
                     Hex(body->ledger_entry_hash()) + "\n" + ConsentDetails(body->consent());
  ctx.out().Result(
      JsonObject().Bool("verified", true).Str("key_id", key_id).Raw("body", MessageJson(*body)),
      text);
  return kExitOk;
}

}  // namespace

std::vector<Command> ReceiptCommands() {
  return {{{"receipt verify",
            {"FILE"},
            "Verify a consent receipt's signature and print what it attests; exit 2 if it "
            "does not verify.",
            {{"hub-key", 0, "PEM_FILE",
              "the hub's public key (from `fedhubctl info`): verify offline, without asking "
              "the hub"}},
            "FILE is what `consent grant --receipt-out` or `consent revoke --receipt-out`\n"
            "wrote. Without --hub-key the key is the one the hub reports now, which trusts\n"
            "the connection; with it nothing but the key is trusted."},
           RunVerify}};
}

}  // namespace fedhubctl
