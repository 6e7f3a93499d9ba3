// fedhubctl stream tail|info|ack-erasure (role platform): the events the caller may see on
// the hub's event log, printed as they arrive, and the calls around them.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "interrupt.h"
#include "names.h"

namespace fedhubctl {
namespace {

using fedhub::v1::DeliveredEvent;
using fedhub::v1::SubscribeResponse;

// Stops a subscription that may not exist yet: the handler can reach its limit, or a
// signal can arrive, before Client::Subscribe has returned the subscription.
// Thread-safety: all methods may be called from any thread.
class StopLatch {
 public:
  void Attach(fedhub::Subscription* subscription) {
    std::lock_guard lock(mu_);
    subscription_ = subscription;
    if (requested_) subscription_->Stop();
  }
  void Detach() {
    std::lock_guard lock(mu_);
    subscription_ = nullptr;
  }
  void Request() {
    std::lock_guard lock(mu_);
    requested_ = true;
    if (subscription_ != nullptr) subscription_->Stop();
  }

 private:
  std::mutex mu_;
  fedhub::Subscription* subscription_ = nullptr;  // guarded by mu_
  bool requested_ = false;                        // guarded by mu_
};

// A table column: `s` padded to `width`, then two spaces.
std::string Col(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ') + "  ";
}

// At most `max` bytes of `s`, cut at a UTF-8 character boundary, with "…" if cut.
std::string Shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

template <typename Message>
std::string Person(const Message& m) {
  if (m.has_user()) return "user " + m.user().local_user_id();
  if (!m.pairwise_pseudonym().empty()) return "pseudonym " + Shorten(m.pairwise_pseudonym(), 12);
  return "-";
}

// "version 7: display_name, locale, interest_tags[2]": the fields the change sets; the
// other fields of its categories are cleared.
std::string ProfileSummary(const fedhub::v1::ProfileUpdate& p) {
  std::vector<const google::protobuf::FieldDescriptor*> set;
  p.fields().GetReflection()->ListFields(p.fields(), &set);
  std::string fields;
  for (const auto* f : set) {
    fields += (fields.empty() ? "" : ", ") + f->name();
    if (f->is_repeated()) {
      fields += "[" + std::to_string(p.fields().GetReflection()->FieldSize(p.fields(), f)) + "]";
    }
  }
  return "version " + std::to_string(p.version()) + ": " +
         (fields.empty() ? "every field of these categories cleared" : fields);
}

std::string ItemSummary(const fedhub::v1::CatalogueUpdate& c) {
  const fedhub::v1::CatalogueItem& item = c.item();
  std::string out = Name(item.kind()) + " " + item.item_id();
  if (c.removed()) return "REMOVED " + out;
  if (!item.version().empty()) out += " v" + item.version();
  out += " \"" + Shorten(item.title(), 48) + "\" " + item.language() + " ";
  out += item.price_minor() == 0
             ? "free"
             : std::to_string(item.price_minor()) + " " + item.currency() + " minor units";
  return out;
}

// One table line. `snapshot`: an item of the catalogue snapshot, not a change.
std::string EventLine(const DeliveredEvent& e, bool snapshot) {
  std::string kind = "-", person = "-", categories = "-", summary;
  if (e.has_profile()) {
    kind = "profile";
    person = Person(e.profile());
    categories = Names<fedhub::v1::DataCategory>(e.profile().categories());
    summary = ProfileSummary(e.profile());
  } else if (e.has_catalogue()) {
    kind = snapshot ? "snapshot" : "catalogue";
    summary = ItemSummary(e.catalogue());
  } else if (e.has_erasure()) {
    const fedhub::v1::ErasureNotice& n = e.erasure();
    kind = "ERASURE";
    person = Person(n);
    categories = Names<fedhub::v1::DataCategory>(n.categories());
    summary = "consent revoked " + FormatTime(n.revoked_at()) +
              "; erase these categories, then: fedhubctl stream ack-erasure " + n.notice_id();
  } else {
    summary = "(an event of a kind this fedhubctl does not know; see --json)";
  }
  return Col(std::to_string(e.offset()), 6) + Col(kind, 9) + Col(e.publisher_platform_id(), 10) +
         Col(person, 22) + Col(categories, 18) + summary;
}

std::string HeaderLine() {
  return Col("OFFSET", 6) + Col("KIND", 9) + Col("PUBLISHER", 10) + Col("PERSON", 22) +
         Col("CATEGORIES", 18) + "SUMMARY";
}

// The DeliveredEvent in the protobuf JSON mapping, plus "cursor" (the resume point after
// this event, absent for items of an unfinished snapshot) and "snapshot" for snapshot items.
std::string EventJson(const DeliveredEvent& e, bool snapshot, std::optional<uint64_t> cursor) {
  std::string json = MessageJson(e);
  json.pop_back();  // the closing brace
  if (json.size() > 1) json += ",";
  if (cursor) json += "\"cursor\":\"" + std::to_string(*cursor) + "\",";
  json += std::string("\"snapshot\":") + (snapshot ? "true" : "false") + "}";
  return json;
}

// What the tail has printed; touched by the subscription's thread only until Wait returns.
struct TailProgress {
  long long limit = 0;  // 0: no limit
  long long printed = 0;
  bool limit_reached = false;
  bool header_shown = false;
  // Where `stream tail --after` continues without a gap or a repeat; unset while a
  // catalogue snapshot is unfinished.
  std::optional<uint64_t> resume;
};

// A text line, after the table header if it is the first.
void TextLine(const Context& ctx, const std::string& line, TailProgress* progress) {
  if (!progress->header_shown) {
    ctx.out().Text(HeaderLine());
    progress->header_shown = true;
  }
  ctx.out().Text(line);
}

// Prints one message's events; false once the limit is reached.
bool PrintMessage(const Context& ctx, const SubscribeResponse& m, TailProgress* progress) {
  for (int i = 0; i < m.events_size(); ++i) {
    const DeliveredEvent& e = m.events(i);
    const bool last = i + 1 == m.events_size();
    // Inside a message each event's own offset is a resume point; after the last one the
    // message's cursor is (the hub may have read past events the caller does not see).
    std::optional<uint64_t> after;
    if (!m.snapshot()) {
      after = last ? m.cursor() : e.offset();
    } else if (m.snapshot_complete() && last) {
      after = m.cursor();
    }
    if (ctx.out().json()) {
      std::cout << EventJson(e, m.snapshot(), after) << "\n" << std::flush;
    } else {
      TextLine(ctx, EventLine(e, m.snapshot()), progress);
    }
    if (after) progress->resume = after;
    ++progress->printed;
    if (progress->limit != 0 && progress->printed >= progress->limit) {
      progress->limit_reached = true;
      return false;
    }
  }
  if (m.snapshot() && !m.snapshot_complete()) return true;
  // Say so when the cursor moved past the last event shown.
  const bool advanced = m.events().empty() ? !progress->resume || *progress->resume != m.cursor()
                                           : m.events(m.events_size() - 1).offset() != m.cursor();
  progress->resume = m.cursor();
  if (m.snapshot_complete()) {
    TextLine(ctx,
             "-- snapshot complete, cursor " + std::to_string(m.cursor()) + "; live changes follow",
             progress);
  } else if (advanced) {
    TextLine(ctx, "-- cursor " + std::to_string(m.cursor()), progress);
  }
  return true;
}

std::string ResumeHint(const TailProgress& progress) {
  if (!progress.resume) {
    return "the catalogue snapshot was not finished and has no cursor to resume from; run "
           "with --snapshot again";
  }
  return "resume with --after " + std::to_string(*progress.resume);
}

std::string StoppedLine(const TailProgress& progress) {
  std::string out = "stopped";
  if (progress.limit_reached) {
    out += " after " + std::to_string(progress.printed) +
           (progress.printed == 1 ? " event" : " events");
  }
  return out + "; " + ResumeHint(progress);
}

// Builds the request from the flags; "" or a usage message.
std::string TailRequest(const ParsedArgs& args, fedhub::v1::SubscribeRequest* request) {
  const int starts = args.Has("after") + args.Has("from-now") + args.Has("snapshot");
  if (starts > 1) return "give one of --after, --from-now and --snapshot";
  if (args.Has("after")) {
    auto after = ParseInt(args.Get("after"), 0, INT64_MAX);
    if (!after) return "--after must be a cursor, 0 or more";
    request->set_after_cursor(static_cast<uint64_t>(*after));
  }
  if (args.Has("snapshot")) request->set_catalogue_snapshot(true);

  std::vector<fedhub::v1::StreamKind> kinds;
  std::vector<fedhub::v1::ItemKind> item_kinds;
  if (auto e = ParseNames(args.GetList("kinds"), "stream kind", &kinds); !e.empty()) return e;
  if (auto e = ParseNames(args.GetList("kind-filter"), "item kind", &item_kinds); !e.empty()) {
    return e;
  }
  if (args.Has("kinds") && kinds.empty()) return "--kinds names no stream kind";
  bool catalogue = kinds.empty();
  for (auto k : kinds) {
    catalogue |= k == fedhub::v1::STREAM_KIND_CATALOGUE;
    request->add_kinds(k);
  }
  const std::vector<std::string> tags = args.GetList("tag");
  const std::vector<std::string> languages = args.GetList("language");
  if (!catalogue && (!item_kinds.empty() || !tags.empty() || !languages.empty())) {
    return "--kind-filter, --tag and --language narrow catalogue events, but --kinds leaves "
           "out catalogue";
  }
  if (!catalogue && args.Has("snapshot")) {
    return "--snapshot starts with the catalogue, but --kinds leaves out catalogue";
  }
  auto* filter = request->mutable_catalogue_filter();
  for (auto k : item_kinds) filter->add_kinds(k);
  for (const std::string& t : tags) filter->add_tags(t);
  for (const std::string& l : languages) filter->add_languages(l);
  return "";
}

int RunTail(Context& ctx, const ParsedArgs& args) {
  fedhub::SubscriptionOptions options;
  if (std::string e = TailRequest(args, &options.request); !e.empty()) return ctx.Usage(e);
  TailProgress progress;
  if (args.Has("count")) {
    auto n = ParseInt(args.Get("count"), 1, INT64_MAX);
    if (!n) return ctx.Usage("-n must be 1 or more");
    progress.limit = *n;
  }

  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  if (args.Has("from-now")) {
    // The current head as an explicit cursor: the same start as the hub's from_now, and a
    // cursor to resume from even if nothing arrives.
    auto info = client->GetStreamInfo();
    if (!info.ok()) return Fail(info.status());
    options.request.set_after_cursor(info->head_cursor());
  }
  if (options.request.start_case() != fedhub::v1::SubscribeRequest::kCatalogueSnapshot) {
    progress.resume = options.request.after_cursor();
  }
  const std::optional<uint64_t> start = progress.resume;
  // Reconnect after a dropped stream for at most --timeout in a row, as unary calls retry.
  options.reconnect.total_timeout = std::min(options.reconnect.total_timeout,
                                             std::chrono::milliseconds(ctx.options().timeout_ms));

  StopLatch stop;
  auto interrupt = StopOnInterrupt::Start([&stop] { stop.Request(); });
  if (!interrupt.ok()) return Fail(interrupt.status());

  std::unique_ptr<fedhub::Subscription> subscription =
      client->Subscribe(options, [&](const SubscribeResponse& message) -> absl::Status {
        // Stop takes effect once this returns; print nothing past the limit meanwhile.
        if (progress.limit_reached) return absl::OkStatus();
        if (!PrintMessage(ctx, message, &progress)) stop.Request();
        return absl::OkStatus();
      });
  stop.Attach(subscription.get());
  const absl::Status ended = subscription->Wait();
  stop.Detach();

  interrupt->reset();  // Ctrl-C and SIGTERM act as before the command again

  if (!ended.ok()) {
    if (progress.printed > 0 || progress.resume != start) {
      std::cerr << "fedhubctl: the subscription ended; " << ResumeHint(progress) << "\n";
    }
    return Fail(ended);
  }
  if (ctx.out().json()) {
    std::cerr << "fedhubctl: " << StoppedLine(progress) << "\n";
  } else {
    ctx.out().Text(StoppedLine(progress));
  }
  return kExitOk;
}

int RunInfo(Context& ctx, const ParsedArgs&) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto info = client->GetStreamInfo();
  if (!info.ok()) return Fail(info.status());
  ctx.out().Result(*info, "oldest cursor    " + std::to_string(info->oldest_cursor()) +
                              "  (the oldest valid --after)\nhead cursor      " +
                              std::to_string(info->head_cursor()) +
                              "  (the newest event)\nretained events  " +
                              std::to_string(info->retained_events()) + "\nretained bytes   " +
                              std::to_string(info->retained_bytes()));
  return kExitOk;
}

int RunAckErasure(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  const std::string& notice = args.positional(0);
  auto ack = client->AcknowledgeErasure(notice);
  if (!ack.ok()) return Fail(ack.status());
  const std::string at = FormatTime(ack->acknowledged_at());
  ctx.out().Result(
      *ack, ack->already_acknowledged()
                ? notice + " was already acknowledged at " + at + "; nothing new was recorded"
                : "acknowledged " + notice + " at " + at + " (audited)");
  return kExitOk;
}

}  // namespace

std::vector<Command> StreamCommands() {
  const std::string stream_kinds = JoinedShortNames(fedhub::v1::StreamKind_descriptor());
  const std::string item_kinds = JoinedShortNames(fedhub::v1::ItemKind_descriptor());
  return {
      {{"stream tail",
        {},
        "Print the events you may see as they arrive, one line each, until Ctrl-C or -n.",
        {{"after", 0, "N", "events after cursor N (default 0: the oldest retained)"},
         {"from-now", 0, "", "start at the current end of the log"},
         {"snapshot", 0, "", "start with the current shared catalogue, then its changes"},
         {"kinds", 0, "K[,K]", "streams: " + stream_kinds + " (default both)", true},
         {"kind-filter", 0, "K[,K]", "only catalogue items of these kinds: " + item_kinds, true},
         {"tag", 0, "T", "only catalogue items with one of these tags", true},
         {"language", 0, "L", "only catalogue items in these languages (\"en\" takes \"en-GB\")",
          true},
         {"count", 'n', "N", "stop after N events"}},
        "Each line starts with the event's offset. Erasure notices show as ERASURE with\n"
        "their notice id: erase the data, then run `fedhubctl stream ack-erasure ID`.\n"
        "A line \"-- cursor N\" follows a message that read past events you do not see.\n"
        "On Ctrl-C (or after -n events) the last line says which --after resumes with no\n"
        "gap and no repeat. With --json each event is one DeliveredEvent object plus\n"
        "\"cursor\" (resume point after it) and \"snapshot\"; the resume hint goes to stderr."},
       RunTail},
      {{"stream info",
        {},
        "Show the event log's oldest and newest cursors and what it retains.",
        {}},
       RunInfo},
      {{"stream ack-erasure",
        {"NOTICE_ID"},
        "Record that you erased what an erasure notice named (audited; safe to repeat).",
        {},
        "NOTICE_ID is the notice's id as `stream tail` shows it, e.g. erasure-c-1f2e..."},
       RunAckErasure},
  };
}

}  // namespace fedhubctl
