// fedhubctl audit head|heads|prove|consistency|check: signed heads of the audit log's Merkle
// tree and proofs against them, verified here with the hub's public key. `check` needs no
// hub at all: it verifies what `prove --out` or `--json` exported, from the key alone.
#include <google/protobuf/util/json_util.h>

#include "command.h"
#include "fedhub/verify.h"

namespace fedhubctl {
namespace {

using fedhub::v1::ConsistencyProof;
using fedhub::v1::InclusionProof;
using fedhub::v1::SignedTreeHead;

// A tree head as one line: "#3: 12 entries, root 1a2b…, signed 2026-… by key …".
std::string HeadLine(const SignedTreeHead& h) {
  google::protobuf::Timestamp t;
  t.set_seconds(h.timestamp_micros() / 1'000'000);
  t.set_nanos(static_cast<int32_t>(h.timestamp_micros() % 1'000'000) * 1000);
  return "#" + std::to_string(h.number()) + ": " + std::to_string(h.tree_size()) + " entries, root " +
         Hex(h.root_hash()).substr(0, 16) + "…, signed " + FormatTime(t) + " by key " + h.key_id();
}

// The hub's raw public key: from --hub-key (offline, trusting only the file) or, if
// `allow_hub` and the flag is absent, as the hub reports it. `source` says which.
absl::StatusOr<std::string> HubKey(Context& ctx, const ParsedArgs& args, bool allow_hub, std::string* source) {
  if (args.Has("hub-key")) {
    auto pem = ReadFile(args.Get("hub-key"));
    if (!pem.ok()) return pem.status();
    auto raw = fedhub::HubPublicKeyFromPem(*pem);
    if (!raw.ok()) return absl::Status(raw.status().code(), args.Get("hub-key") + ": " + std::string(raw.status().message()));
    *source = "from " + args.Get("hub-key");
    return raw;
  }
  if (!allow_hub) return absl::InvalidArgumentError("--hub-key is required: the PEM from `fedhubctl info`");
  auto client = ctx.Connect();
  if (!client.ok()) return client.status();
  auto info = client->GetHubInfo();
  if (!info.ok()) return info.status();
  *source = "as reported by the hub";
  return info->signing_public_key();
}

// Prints a verified or failed result; the exported JSON goes to --out if given.
int Report(Context& ctx, const ParsedArgs& args, const google::protobuf::Message& exported, const absl::Status& check,
           const std::string& key_source, const std::string& what) {
  if (args.Has("out")) {
    if (absl::Status s = WriteFile(args.Get("out"), MessageJson(exported) + "\n"); !s.ok()) return Fail(s);
  }
  if (!check.ok()) {
    ctx.out().Result(JsonObject().Bool("verified", false).Str("problem", std::string(check.message())),
                     "NOT VERIFIED (hub key " + key_source + "): " + std::string(check.message()));
    return kExitFailed;
  }
  ctx.out().Result(exported, what + "\nverified with the hub key " + key_source);
  return kExitOk;
}

uint64_t SizeFlag(const ParsedArgs& args, const std::string& name) {
  return args.Has(name) ? static_cast<uint64_t>(*ParseInt(args.Get(name), 1, INT64_MAX)) : 0;
}

bool SizeFlagOk(const ParsedArgs& args, const std::string& name) {
  return !args.Has(name) || ParseInt(args.Get(name), 1, INT64_MAX).has_value();
}

int RunHead(Context& ctx, const ParsedArgs& args) {
  if (!SizeFlagOk(args, "size")) return ctx.Usage("--size must be 1 or more");
  if (args.Has("sign") && args.Has("size")) return ctx.Usage("--sign signs the tree as it is now; drop --size");
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto head = args.Has("sign") ? client->SignTreeHead() : client->GetSignedTreeHead(SizeFlag(args, "size"));
  if (!head.ok()) return Fail(head.status());
  std::string source;
  auto key = HubKey(ctx, args, true, &source);
  if (!key.ok()) return Fail(key.status());
  return Report(ctx, args, *head, fedhub::VerifySignedTreeHead(*head, *key), source, HeadLine(*head));
}

int RunHeads(Context& ctx, const ParsedArgs&) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  uint64_t next = 1;
  while (next != 0) {
    auto page = client->ListSignedTreeHeads(next, 1000);
    if (!page.ok()) return Fail(page.status());
    for (const SignedTreeHead& h : page->heads()) ctx.out().Result(h, HeadLine(h));
    next = page->next_number();
  }
  return kExitOk;
}

int RunProve(Context& ctx, const ParsedArgs& args) {
  auto sequence = ParseInt(args.positional(0), 1, INT64_MAX);
  if (!sequence) return ctx.Usage("SEQUENCE must be an audit entry number, 1 or more");
  if (!SizeFlagOk(args, "size")) return ctx.Usage("--size must be 1 or more");
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto proof = client->GetInclusionProof(static_cast<uint64_t>(*sequence), SizeFlag(args, "size"));
  if (!proof.ok()) return Fail(proof.status());
  std::string source;
  auto key = HubKey(ctx, args, true, &source);
  if (!key.ok()) return Fail(key.status());
  return Report(ctx, args, *proof, fedhub::VerifyInclusionProof(*proof, *key), source,
                "audit entry " + args.positional(0) + " (entry hash " + Hex(proof->entry().entry_hash()).substr(0, 16) +
                    "…) is in signed head " + HeadLine(proof->head()) + "\naudit path: " +
                    std::to_string(proof->audit_path_size()) + " hashes");
}

int RunConsistency(Context& ctx, const ParsedArgs& args) {
  auto first = ParseInt(args.positional(0), 1, INT64_MAX);
  if (!first) return ctx.Usage("FIRST_SIZE must be the size of a signed head, 1 or more");
  if (!SizeFlagOk(args, "to")) return ctx.Usage("--to must be 1 or more");
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto proof = client->GetConsistencyProof(static_cast<uint64_t>(*first), SizeFlag(args, "to"));
  if (!proof.ok()) return Fail(proof.status());
  std::string source;
  auto key = HubKey(ctx, args, true, &source);
  if (!key.ok()) return Fail(key.status());
  return Report(ctx, args, *proof, fedhub::VerifyConsistencyProof(*proof, *key), source,
                "signed head " + HeadLine(proof->second()) + "\nextends signed head " + HeadLine(proof->first()) +
                    "\nproof: " + std::to_string(proof->proof_size()) + " hashes");
}

// Parses `json` as `message`, refusing fields it does not know.
bool ParseAs(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  return google::protobuf::util::JsonStringToMessage(json, message, options).ok();
}

int RunCheck(Context& ctx, const ParsedArgs& args) {
  auto json = ReadFile(args.positional(0));
  if (!json.ok()) return Fail(json.status());
  std::string source;
  auto key = HubKey(ctx, args, false, &source);
  if (!key.ok()) return ctx.Usage(std::string(key.status().message()));
  InclusionProof inclusion;
  ConsistencyProof consistency;
  SignedTreeHead head;
  if (json->find("\"audit_path\"") != std::string::npos || json->find("\"entry\"") != std::string::npos) {
    if (!ParseAs(*json, &inclusion)) return Fail(absl::InvalidArgumentError(args.positional(0) + ": not an inclusion proof"));
    return Report(ctx, args, inclusion, fedhub::VerifyInclusionProof(inclusion, *key), source,
                  "inclusion of audit entry " + std::to_string(inclusion.entry().sequence()) + " in signed head " +
                      HeadLine(inclusion.head()));
  }
  if (json->find("\"first\"") != std::string::npos) {
    if (!ParseAs(*json, &consistency)) {
      return Fail(absl::InvalidArgumentError(args.positional(0) + ": not a consistency proof"));
    }
    return Report(ctx, args, consistency, fedhub::VerifyConsistencyProof(consistency, *key), source,
                  "signed head " + HeadLine(consistency.second()) + "\nextends signed head " +
                      HeadLine(consistency.first()));
  }
  if (!ParseAs(*json, &head)) {
    return Fail(absl::InvalidArgumentError(args.positional(0) +
                                           ": neither a signed tree head, an inclusion proof nor a consistency proof"));
  }
  return Report(ctx, args, head, fedhub::VerifySignedTreeHead(head, *key), source, "signed head " + HeadLine(head));
}

const FlagSpec kHubKey{"hub-key", 0, "PEM_FILE",
                       "the hub's public key (from `fedhubctl info`); without it, the key the hub reports"};
const FlagSpec kOut{"out", 0, "FILE", "also write what was verified, as JSON, to FILE (for `audit check`)"};

}  // namespace

std::vector<Command> AuditProofCommands() {
  return {
      {{"audit head",
        {},
        "Show the newest signed head of the audit tree (or one of a given size, or sign one now), "
        "with its signature checked.",
        {{"size", 0, "N", "the newest head of N entries"},
         {"sign", 0, "", "ask the hub to sign a head of the tree as it is now (auditor or admin)"},
         kHubKey,
         kOut}},
       RunHead},
      {{"audit heads", {}, "List every signed head of the audit tree.", {}}, RunHeads},
      {{"audit prove",
        {"SEQUENCE"},
        "Prove that audit entry SEQUENCE is in a signed head, and verify the proof here; exit 2 if "
        "it does not verify.",
        {{"size", 0, "N", "prove it in the signed head of N entries (default: the newest head)"}, kHubKey, kOut},
        "Checks the head's signature, the entry's own hash (recomputed from its bytes) and the\n"
        "audit path to the head's root. --out writes the proof as JSON for `audit check` or any\n"
        "verifier built from docs/audit-proofs.md (tools/fedhub_verify_proof.py)."},
       RunProve},
      {{"audit consistency",
        {"FIRST_SIZE"},
        "Prove that a later signed head extends the signed head of FIRST_SIZE entries: nothing "
        "recorded before it was changed or removed.",
        {{"to", 0, "N", "the later head's size (default: the newest head)"}, kHubKey, kOut}},
       RunConsistency},
      {{"audit check",
        {"FILE"},
        "Verify, offline, a signed head or a proof that `audit head|prove|consistency --out` (or "
        "--json) exported; exit 2 if it does not verify.",
        {{"hub-key", 0, "PEM_FILE", "the hub's public key (from `fedhubctl info`)", false, true}},
        "Needs no hub: only FILE and the key are trusted."},
       RunCheck},
  };
}

}  // namespace fedhubctl
