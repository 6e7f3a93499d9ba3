// fedhubctl audit verify|tail (role auditor): the audit log and the consent ledger,
// verified on this side from the entries themselves, never by the hub's own VerifyChain.
#include <algorithm>
#include <cstdint>

#include "command.h"
#include "fedhub/verify.h"
#include "names.h"

namespace fedhubctl {
namespace {

using fedhub::v1::Chain;
using fedhub::v1::ChainEntry;

constexpr int kPageSize = 1000;

// "audit", "ledger" (and "all" when `allow_all`) into chains; "" or a usage message.
std::string ParseChains(const std::string& name, bool allow_all, std::vector<Chain>* out) {
  if (allow_all && name == "all") {
    for (const std::string& n : ShortNames(fedhub::v1::Chain_descriptor())) {
      out->push_back(static_cast<Chain>(ParseShortName(fedhub::v1::Chain_descriptor(), n)));
    }
    return "";
  }
  std::string error = ParseNames(std::vector<std::string>{name}, "chain", out);
  if (!error.empty() && allow_all) error += ", all";
  return error;
}

struct ChainResult {
  absl::Status problem;  // DATA_LOSS from the verifier, or OK
  uint64_t checked = 0;
  fedhub::v1::ChainHead head;
};

// Reads the whole chain page by page and verifies it entry by entry, then checks that the
// hub's head is the end of what was verified. A refused read is returned as the status.
absl::StatusOr<ChainResult> VerifyOne(fedhub::Client& client, Chain chain) {
  fedhub::ChainVerifier verifier(chain);
  ChainResult result;
  uint64_t next = 1;
  while (true) {
    auto page = client.ListChainEntries(chain, next, kPageSize);
    if (!page.ok()) return page.status();
    for (const ChainEntry& e : page->entries()) {
      if (absl::Status s = verifier.Add(e); !s.ok()) {
        result.problem = s;
        result.checked = verifier.entries_checked();
        result.head = page->head();
        return result;
      }
    }
    result.head = page->head();
    if (page->next_sequence() == 0) break;
    if (page->next_sequence() <= next) {
      return absl::InternalError("the hub's paging did not advance past entry " +
                                 std::to_string(next));
    }
    next = page->next_sequence();
  }
  result.checked = verifier.entries_checked();
  result.problem = verifier.CheckHead(result.head);
  return result;
}

int RunVerify(Context& ctx, const ParsedArgs& args) {
  std::vector<Chain> chains;
  if (auto e = ParseChains(args.Get("chain", "all"), true, &chains); !e.empty()) {
    return ctx.Usage(e);
  }
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  int exit_code = kExitOk;
  for (Chain chain : chains) {
    auto result = VerifyOne(*client, chain);
    if (!result.ok()) return Fail(result.status());
    const std::string name = Name(chain);
    JsonObject json;
    json.Str("chain", name)
        .Bool("ok", result->problem.ok())
        .Uint("entries_checked", result->checked);
    json.Uint("size", result->head.size()).Str("head_hash", Hex(result->head.head_hash()));
    if (result->problem.ok()) {
      ctx.out().Result(json, name + " chain: ok, " + std::to_string(result->checked) +
                                 " entries verified, head " +
                                 Hex(result->head.head_hash()).substr(0, 16) + "…");
      continue;
    }
    const std::string problem = std::string(result->problem.message());
    json.Str("problem", problem);
    ctx.out().Result(json, name + " chain: FAILED after " + std::to_string(result->checked) +
                               " good entries: " + problem);
    exit_code = kExitFailed;
  }
  return exit_code;
}

std::string EntryLine(const ChainEntry& e) {
  std::string out = std::to_string(e.sequence()) + "  ";
  if (e.has_audit()) {
    const auto& r = e.audit();
    out += FormatTime(r.time()) + "  " + (r.actor_id().empty() ? "?" : r.actor_id()) + "/" +
           Name(r.actor_role()) + "  " + r.action() + "  " + Name(r.outcome());
    if (r.status_code() != 0) {
      out += " (" + absl::StatusCodeToString(static_cast<absl::StatusCode>(r.status_code())) + ")";
    }
    if (!r.subject().empty()) out += "  subject " + r.subject().substr(0, 12) + "…";
    if (r.categories_size() > 0) out += "  " + Names<fedhub::v1::DataCategory>(r.categories());
    if (r.purposes_size() > 0) out += "  " + Names<fedhub::v1::Purpose>(r.purposes());
    if (!r.consent_id().empty()) out += "  " + r.consent_id();
    if (!r.counterparty_id().empty()) out += "  with " + r.counterparty_id();
    if (!r.detail().empty()) out += "  — " + r.detail();
  } else if (e.has_ledger()) {
    const auto& r = e.ledger();
    out += FormatTime(r.time()) + "  " + Name(r.action()) + "  " + r.consent_id() + "  " +
           r.source_platform_id() + " -> " +
           (r.target_platform_id().empty() ? "any member" : r.target_platform_id()) + "  " +
           Names<fedhub::v1::DataCategory>(r.categories()) + "  " +
           Names<fedhub::v1::Purpose>(r.purposes()) + "  by " + r.actor_platform_id();
  } else {
    out += "(the hub could not decode this entry; run fedhubctl audit verify)";
  }
  return out;
}

int RunTail(Context& ctx, const ParsedArgs& args) {
  std::vector<Chain> chains;
  if (auto e = ParseChains(args.Get("chain", "audit"), false, &chains); !e.empty()) {
    return ctx.Usage(e);
  }
  uint64_t count = 10;
  if (args.Has("lines")) {
    auto n = ParseInt(args.Get("lines"), 1, INT64_MAX);
    if (!n) return ctx.Usage("-n must be 1 or more");
    count = static_cast<uint64_t>(*n);
  }
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto head = client->GetChainHead(chains[0]);
  if (!head.ok()) return Fail(head.status());
  const uint64_t end = head->size();
  uint64_t next = end > count ? end - count + 1 : 1;
  while (end != 0 && next != 0 && next <= end) {
    const int page_size = static_cast<int>(std::min<uint64_t>(kPageSize, end - next + 1));
    auto page = client->ListChainEntries(chains[0], next, page_size);
    if (!page.ok()) return Fail(page.status());
    if (page->entries_size() == 0) break;
    for (const ChainEntry& e : page->entries()) {
      if (e.sequence() > end) break;
      ctx.out().Result(e, EntryLine(e));
      next = e.sequence() + 1;
    }
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditCommands() {
  const std::string chains = JoinedShortNames(fedhub::v1::Chain_descriptor());
  return {
      {{"audit verify",
        {},
        "Verify the hash chains here, entry by entry from the first; exit 2 on the first bad "
        "entry.",
        {{"chain", 0, "C", "which: " + chains + " or all (default all)"}},
        "Reads every entry with ListChainEntries and recomputes each hash and link with the\n"
        "SDK's ChainVerifier; the hub's own VerifyChain is not consulted. Finally the hub's\n"
        "reported head must equal the verified end. A failure names the first bad entry,\n"
        "e.g. \"audit entry 7: content does not match its hash\"."},
       RunVerify},
      {{"audit tail",
        {},
        "Show the last entries of a chain, decoded.",
        {{"chain", 0, "C", "which: " + chains + " (default audit)"},
         {"lines", 'n', "N", "how many (default 10)"}}},
       RunTail},
  };
}

}  // namespace fedhubctl
