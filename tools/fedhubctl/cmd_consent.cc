// fedhubctl consent grant|revoke|check|list (role platform). `consent watch` is in
// cmd_consent_watch.cc.
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <iostream>

#include "command.h"
#include "consent_io.h"
#include "names.h"

namespace fedhubctl {
namespace {

using fedhub::v1::DataCategory;
using fedhub::v1::Purpose;
using google::protobuf::util::TimeUtil;

// "--to *" means any member platform.
constexpr char kAnyMember[] = "*";

int RunGrant(Context& ctx, const ParsedArgs& args) {
  fedhub::v1::GrantConsentRequest request;
  request.mutable_user()->set_local_user_id(args.positional(0));
  if (args.Get("to") != kAnyMember) request.set_target_platform_id(args.Get("to"));

  std::vector<DataCategory> categories;
  std::vector<Purpose> purposes;
  if (auto e = ParseNames(args.GetList("category"), "category", &categories); !e.empty()) {
    return ctx.Usage(e);
  }
  if (auto e = ParseNames(args.GetList("purpose"), "purpose", &purposes); !e.empty()) {
    return ctx.Usage(e);
  }
  if (categories.empty()) return ctx.Usage("--category names no category");
  if (purposes.empty()) return ctx.Usage("--purpose names no purpose");
  for (DataCategory c : categories) request.add_categories(c);
  for (Purpose p : purposes) request.add_purposes(p);

  if (args.Has("expires") && args.Has("days")) {
    return ctx.Usage("give --expires or --days, not both");
  }
  if (args.Has("expires")) {
    if (!TimeUtil::FromString(args.Get("expires"), request.mutable_expires_at())) {
      return ctx.Usage("--expires must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z");
    }
  } else if (args.Has("days")) {
    auto days = ParseInt(args.Get("days"), 1, 36500);
    if (!days) return ctx.Usage("--days must be a whole number of days, 1 or more");
    auto at = std::chrono::system_clock::now() + std::chrono::hours(24) * *days;
    *request.mutable_expires_at() = TimeUtil::SecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
  }
  if (args.Get("evidence").empty()) {
    return ctx.Usage("--evidence must say how the person gave consent, e.g. web-form");
  }
  request.mutable_evidence()->set_method(args.Get("evidence"));
  request.mutable_evidence()->set_reference(args.Get("evidence-ref"));

  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto granted = client->GrantConsent(request);
  if (!granted.ok()) return Fail(granted.status());
  if (args.Has("receipt-out")) {
    // The consent is recorded whatever happens here; say so if the file cannot be written.
    if (absl::Status s = WriteReceipt(args.Get("receipt-out"), granted->receipt()); !s.ok()) {
      std::cerr << "fedhubctl: consent " << granted->consent().consent_id()
                << " was granted, but its receipt could not be saved\n";
      return Fail(s);
    }
  }
  ctx.out().Result(*granted, granted->consent().consent_id());
  return kExitOk;
}

int RunRevoke(Context& ctx, const ParsedArgs& args) {
  if (args.Has("reason")) {
    std::cerr << "fedhubctl: note: the hub records revocations without a reason "
                 "(RevokeConsentRequest has no such field); --reason is not sent\n";
  }
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto revoked = client->RevokeConsent(args.positional(0), args.positional(1));
  if (!revoked.ok()) return Fail(revoked.status());
  if (args.Has("receipt-out")) {
    if (absl::Status s = WriteReceipt(args.Get("receipt-out"), revoked->receipt()); !s.ok()) {
      std::cerr << "fedhubctl: consent " << revoked->consent().consent_id()
                << " was revoked, but its receipt could not be saved\n";
      return Fail(s);
    }
  }
  ctx.out().Result(*revoked, "revoked " + revoked->consent().consent_id());
  return kExitOk;
}

int RunCheck(Context& ctx, const ParsedArgs& args) {
  std::vector<DataCategory> category;
  std::vector<Purpose> purpose;
  if (auto e = ParseNames(std::vector<std::string>{args.Get("category")}, "category", &category);
      !e.empty()) {
    return ctx.Usage(e);
  }
  if (auto e = ParseNames(std::vector<std::string>{args.Get("purpose")}, "purpose", &purpose);
      !e.empty()) {
    return ctx.Usage(e);
  }
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto answer = client->CheckConsent(args.positional(0), args.Get("from"), args.Get("to"),
                                     category[0], purpose[0]);
  if (!answer.ok()) return Fail(answer.status());
  if (answer->allowed()) {
    ctx.out().Result(*answer, "allowed under " + answer->consent_id() + " until " +
                                  FormatTime(answer->expires_at()));
    return kExitOk;
  }
  ctx.out().Result(*answer, "refused: " + answer->reason());
  return kExitFailed;
}

int RunList(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto consents = client->ListAllConsents(args.positional(0), args.Has("all"));
  if (!consents.ok()) return Fail(consents.status());
  for (const auto& c : *consents) ctx.out().Result(c, ConsentLine(c));
  if (consents->empty()) {
    ctx.out().Text(args.Has("all") ? "no consents"
                                   : "no consents in force (--all lists revoked "
                                     "and expired ones too)");
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> ConsentWatchCommands();

std::vector<Command> ConsentCommands() {
  const std::string categories = JoinedShortNames(fedhub::v1::DataCategory_descriptor());
  const std::string purposes = JoinedShortNames(fedhub::v1::Purpose_descriptor());
  std::vector<Command> out = {
      {{"consent grant",
        {"LOCAL_ID"},
        "Record a person's consent (run as the platform where they gave it); prints its id.",
        {{"to", 0, "PLATFORM", "platform that may receive the data; '*' for any member", false,
          true},
         {"category", 0, "C[,C]", "data categories: " + categories, true, true},
         {"purpose", 0, "P[,P]", "purposes: " + purposes, true, true},
         {"evidence", 0, "METHOD", "how consent was collected, e.g. web-form", false, true},
         {"evidence-ref", 0, "REF", "your reference to the record of it"},
         {"expires", 0, "RFC3339", "when it ends (default: the hub's maximum lifetime)"},
         {"days", 0, "N", "ends N days from now (instead of --expires)"},
         {"receipt-out", 0, "FILE", "write the signed receipt (JSON) to FILE"}},
        "With --json prints the GrantConsentResponse (consent and receipt)."},
       RunGrant},
      {{"consent revoke",
        {"CONSENT_ID", "LOCAL_ID"},
        "Revoke a consent; any platform the person uses may (LOCAL_ID is your id for them).",
        {{"reason", 0, "TEXT", "accepted, but not sent: the hub's revocation has no reason"},
         {"receipt-out", 0, "FILE", "write the signed receipt (JSON) to FILE"}}},
       RunRevoke},
      {{"consent check",
        {"LOCAL_ID"},
        "Ask whether data may flow now; exit 0 if allowed, 2 if refused.",
        {{"from", 0, "SRC", "source platform", false, true},
         {"to", 0, "TGT", "target platform; you must be the source or the target", false, true},
         {"category", 0, "C", "one of: " + categories, false, true},
         {"purpose", 0, "P", "one of: " + purposes, false, true}}},
       RunCheck},
      {{"consent list",
        {"LOCAL_ID"},
        "List a person's consents that involve you, in grant order.",
        {{"all", 0, "", "include revoked and expired consents"}}},
       RunList},
  };
  for (Command& c : ConsentWatchCommands()) out.push_back(std::move(c));
  return out;
}

}  // namespace fedhubctl
