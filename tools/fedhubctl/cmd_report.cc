// fedhubctl report person|platform: consent reports read from the audit log up to a signed
// tree head, as a table, JSON lines or CSV. Every line names its audit entry, so any line can
// be proved with `fedhubctl audit prove SEQUENCE --size TREE_SIZE`.
#include <google/protobuf/util/time_util.h>

#include "command.h"
#include "names.h"

namespace fedhubctl {
namespace {

using fedhub::v1::ReportLine;
using fedhub::v1::ReportTotal;
using fedhub::v1::SignedTreeHead;
using google::protobuf::util::TimeUtil;

enum class Format { kTable, kJson, kCsv };

std::string TimeOf(int64_t micros) {
  return micros == 0 ? "-" : FormatTime(TimeUtil::MicrosecondsToTimestamp(micros));
}

std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// Prints lines and the closing head in the chosen format.
class Printer {
 public:
  explicit Printer(Format format) : format_(format) {}

  void Line(const ReportLine& l) {
    Header();
    const std::string categories = Names<fedhub::v1::DataCategory>(l.categories());
    const std::string purposes = Names<fedhub::v1::Purpose>(l.purposes());
    switch (format_) {
      case Format::kJson:
        std::printf("%s\n", MessageJson(l).c_str());
        break;
      case Format::kCsv:
        std::printf("%s\n", (std::to_string(l.audit_sequence()) + "," + Hex(l.entry_hash()) + "," +
                             TimeOf(l.time_micros()) + "," + Csv(l.kind()) + "," + Csv(l.action()) + "," +
                             Csv(l.actor_id()) + "," + Csv(l.counterparty_id()) + "," + Csv(l.consent_id()) + "," +
                             Csv(categories) + "," + Csv(purposes) + "," + Name(l.outcome()) + "," +
                             std::to_string(l.status_code()) + "," + Csv(l.subject()) + "," +
                             std::to_string(l.events()) + "," + Csv(l.detail()))
                                .c_str());
        break;
      case Format::kTable:
        std::printf("%s\n", (Pad(std::to_string(l.audit_sequence()), 7) + Pad(TimeOf(l.time_micros()), 29) +
                             Pad(l.kind(), 26) + Pad(l.actor_id().empty() ? "-" : l.actor_id(), 12) +
                             Pad(l.counterparty_id().empty() ? "-" : l.counterparty_id(), 12) +
                             Pad(l.consent_id().empty() ? "-" : l.consent_id(), 36) +
                             Pad(categories.empty() ? "-" : categories, 22) + Pad(purposes.empty() ? "-" : purposes, 16) +
                             Name(l.outcome()) + (l.events() ? " " + std::to_string(l.events()) + " events" : "") +
                             (l.detail().empty() ? "" : " — " + l.detail()))
                                .c_str());
        break;
    }
  }

  void Total(const ReportTotal& t) {
    Header();
    if (format_ == Format::kJson) {
      std::printf("%s\n", JsonObject().Raw("total", MessageJson(t)).str().c_str());
    } else if (format_ == Format::kTable) {
      std::printf("total: %s %s for %s: %llu accesses, %llu events\n", t.direction().c_str(),
                  Name(t.category()).c_str(), Name(t.purpose()).c_str(), static_cast<unsigned long long>(t.accesses()),
                  static_cast<unsigned long long>(t.events()));
    }
  }

  void Head(const SignedTreeHead& h) {
    Header();
    const std::string when = TimeOf(h.timestamp_micros());
    switch (format_) {
      case Format::kJson:
        std::printf("%s\n", JsonObject().Raw("signed_tree_head", MessageJson(h)).str().c_str());
        break;
      case Format::kCsv:
        std::printf("%llu,%s,%s,signed_tree_head,,%s,,,,,,,,,%s\n", static_cast<unsigned long long>(h.tree_size()),
                    Hex(h.root_hash()).c_str(), when.c_str(), h.key_id().c_str(),
                    Csv("number " + std::to_string(h.number()) + " signature " + Hex(h.signature())).c_str());
        break;
      case Format::kTable:
        std::printf("read at signed tree head #%llu: %llu entries, root %s, signed %s by key %s\n"
                    "prove any line: fedhubctl audit prove SEQ --size %llu\n",
                    static_cast<unsigned long long>(h.number()), static_cast<unsigned long long>(h.tree_size()),
                    Hex(h.root_hash()).c_str(), when.c_str(), h.key_id().c_str(),
                    static_cast<unsigned long long>(h.tree_size()));
        break;
    }
  }

 private:
  // The column header, printed with the first output: a refused report prints nothing.
  void Header() {
    if (header_done_) return;
    header_done_ = true;
    if (format_ == Format::kCsv) {
      std::printf("audit_sequence,entry_hash,time,kind,action,actor_id,counterparty_id,consent_id,categories,"
                  "purposes,outcome,status_code,subject,events,detail\n");
    } else if (format_ == Format::kTable) {
      std::printf("%s\n", (Pad("SEQ", 7) + Pad("TIME", 29) + Pad("KIND", 26) + Pad("ACTOR", 12) + Pad("OTHER", 12) +
                           Pad("CONSENT", 36) + Pad("CATEGORIES", 22) + Pad("PURPOSES", 16) + "OUTCOME / DETAIL")
                              .c_str());
    }
  }

  Format format_;
  bool header_done_ = false;
};

bool ParseFormat(Context& ctx, const ParsedArgs& args, Format* format) {
  const std::string f = args.Get("format", ctx.out().json() ? "json" : "table");
  if (f == "table") *format = Format::kTable;
  else if (f == "json") *format = Format::kJson;
  else if (f == "csv") *format = Format::kCsv;
  else return false;
  return true;
}

// Reads every page at one head: the first page picks the head (--size or the newest), the
// next pages ask for the same size.
template <typename Request, typename Fetch>
int Pages(Context& ctx, const ParsedArgs& args, Request request, const Fetch& fetch) {
  Format format;
  if (!ParseFormat(ctx, args, &format)) return ctx.Usage("--format is table, json or csv");
  if (args.Has("size")) {
    auto n = ParseInt(args.Get("size"), 1, INT64_MAX);
    if (!n) return ctx.Usage("--size must be the size of a signed head, 1 or more");
    request.set_tree_size(static_cast<uint64_t>(*n));
  }
  if (args.Has("page-size")) {
    auto n = ParseInt(args.Get("page-size"), 1, 10000);
    if (!n) return ctx.Usage("--page-size must be 1 to 10000");
    request.set_page_size(static_cast<int32_t>(*n));
  }
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  Printer printer(format);
  SignedTreeHead head;
  while (true) {
    auto page = fetch(*client, request);
    if (!page.ok()) return Fail(page.status());
    uint64_t next = 0;
    for (const auto& message : *page) {
      for (const ReportLine& l : message.lines()) printer.Line(l);
      if (message.has_head()) head = message.head();
      next = message.next_sequence();
      if constexpr (std::is_same_v<Request, fedhub::v1::ReportPlatformRequest>) {
        for (const ReportTotal& t : message.totals()) printer.Total(t);
      }
    }
    if (next == 0) break;
    request.set_start_sequence(next);
    request.set_tree_size(head.tree_size());
  }
  printer.Head(head);
  return kExitOk;
}

int RunPerson(Context& ctx, const ParsedArgs& args) {
  fedhub::v1::ReportPersonRequest request;
  request.set_platform_id(args.Get("platform"));
  request.set_local_user_id(args.positional(0));
  return Pages(ctx, args, request, [](fedhub::Client& c, const fedhub::v1::ReportPersonRequest& r) {
    return c.ReportPerson(r);
  });
}

int RunPlatform(Context& ctx, const ParsedArgs& args) {
  fedhub::v1::ReportPlatformRequest request;
  request.set_platform_id(args.positional(0));
  for (const char* flag : {"from", "to"}) {
    if (!args.Has(flag)) continue;
    google::protobuf::Timestamp t;
    if (!TimeUtil::FromString(args.Get(flag), &t)) {
      return ctx.Usage(std::string("--") + flag + " must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z");
    }
    const int64_t micros = TimeUtil::TimestampToMicroseconds(t);
    std::string(flag) == "from" ? request.set_from_micros(micros) : request.set_to_micros(micros);
  }
  return Pages(ctx, args, request, [](fedhub::Client& c, const fedhub::v1::ReportPlatformRequest& r) {
    return c.ReportPlatform(r);
  });
}

const FlagSpec kFormat{"format", 0, "F", "table (default), json (one object per line) or csv"};
const FlagSpec kSize{"size", 0, "N", "read the log up to the signed head of N entries (default: the newest head)"};
const FlagSpec kPageSize{"page-size", 0, "N", "lines per request, 1 to 10000 (default 1000); every page is read"};

}  // namespace

std::vector<Command> ReportCommands() {
  return {
      {{"report person",
        {"LOCAL_ID"},
        "Everything the audit log records about one person: consents granted, revoked or expired, "
        "every access under them, refusals, erasure notices and acknowledgements.",
        {{"platform", 0, "ID", "the platform that knows the person as LOCAL_ID", false, true}, kFormat, kSize, kPageSize},
        "Role auditor, or the platform itself for its own people. The report ends with the\n"
        "signed tree head it was read at; prove any line with `fedhubctl audit prove SEQ\n"
        "--size N` and check it offline with `fedhubctl audit check`."},
       RunPerson},
      {{"report platform",
        {"PLATFORM"},
        "One platform over a time range: consents received and given, accesses by category and "
        "purpose, refusals, revocations it has not acknowledged.",
        {{"from", 0, "TIME", "RFC 3339 start (inclusive)"},
         {"to", 0, "TIME", "RFC 3339 end (exclusive)"},
         kFormat,
         kSize,
         kPageSize},
        "Role auditor, or the platform itself. Ends with totals by direction, category and\n"
        "purpose, and the signed tree head the report was read at."},
       RunPlatform},
  };
}

}  // namespace fedhubctl
