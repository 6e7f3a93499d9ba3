// fedhubctl catalogue list|share|policy (role platform): the catalogues shared with the
// caller, and who receives the caller's own.
#include <algorithm>
#include <string>
#include <vector>

#include "command.h"
#include "names.h"

namespace fedhubctl {
namespace {

using fedhub::v1::ItemKind;
using fedhub::v1::SharedItem;
using fedhub::v1::SharingPolicy;

std::string Pad(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::string PolicyText(const SharingPolicy& p) {
  std::string with = p.all_members() ? "every member platform" : Joined(p.platform_ids());
  if (with.empty()) with = "nobody (your catalogue is not shared)";
  std::string kinds = "every kind";
  if (p.kinds_size() > 0) {
    kinds.clear();
    for (int k : p.kinds()) {
      kinds += (kinds.empty() ? "" : ", ") + ShortName(fedhub::v1::ItemKind_descriptor(), k);
    }
  }
  return "shared with  " + with + "\nkinds        " + kinds;
}

std::string Price(const fedhub::v1::CatalogueItem& item) {
  if (item.price_minor() == 0) return "free";
  return std::to_string(item.price_minor()) + " " + item.currency();
}

int RunList(Context& ctx, const ParsedArgs& args) {
  fedhub::v1::CatalogueFilter filter;
  std::vector<ItemKind> kinds;
  if (auto e = ParseNames(args.GetList("kind"), "item kind", &kinds); !e.empty()) {
    return ctx.Usage(e);
  }
  for (ItemKind k : kinds) filter.add_kinds(k);
  for (const std::string& t : args.GetList("tag")) filter.add_tags(t);
  for (const std::string& l : args.GetList("language")) filter.add_languages(l);

  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto items = client->ListAllCatalogue(filter, args.Has("own"));
  if (!items.ok()) return Fail(items.status());
  if (items->empty()) {
    ctx.out().Text(args.Has("own") ? "you have published no items that match"
                                   : "no shared item matches (publishers choose who receives "
                                     "their catalogue: `catalogue share`)");
    return kExitOk;
  }
  size_t publisher = 9, id = 4, kind = 4, price = 5;
  for (const SharedItem& s : *items) {
    publisher = std::max(publisher, s.publisher_platform_id().size());
    id = std::max(id, s.item().item_id().size());
    kind = std::max(kind, Name(s.item().kind()).size());
    price = std::max(price, Price(s.item()).size());
  }
  ctx.out().Text(Pad("PUBLISHER", publisher) + "  " + Pad("ITEM", id) + "  " + Pad("KIND", kind) +
                 "  " + Pad("LANG", 7) + "  " + Pad("PRICE", price) + "  " + Pad("OFFSET", 8) +
                 "  TITLE");
  for (const SharedItem& s : *items) {
    const fedhub::v1::CatalogueItem& item = s.item();
    ctx.out().Result(s, Pad(s.publisher_platform_id(), publisher) + "  " + Pad(item.item_id(), id) +
                            "  " + Pad(Name(item.kind()), kind) + "  " + Pad(item.language(), 7) +
                            "  " + Pad(Price(item), price) + "  " +
                            Pad(std::to_string(s.offset()), 8) + "  " + item.title());
  }
  return kExitOk;
}

int RunShare(Context& ctx, const ParsedArgs& args) {
  const int choices = args.Has("with") + args.Has("all-members") + args.Has("nobody");
  if (choices != 1) {
    return ctx.Usage(choices == 0 ? "say who receives your catalogue: --with, --all-members "
                                    "or --nobody"
                                  : "give only one of --with, --all-members and --nobody");
  }
  SharingPolicy policy;
  if (args.Has("with")) {
    const std::vector<std::string> platforms = args.GetList("with");
    if (platforms.empty()) return ctx.Usage("--with names no platform");
    for (const std::string& p : platforms) policy.add_platform_ids(p);
  }
  policy.set_all_members(args.Has("all-members"));
  std::vector<ItemKind> kinds;
  if (auto e = ParseNames(args.GetList("kind"), "item kind", &kinds); !e.empty()) {
    return ctx.Usage(e);
  }
  if (args.Has("nobody") && !kinds.empty()) {
    return ctx.Usage("--nobody shares no kind; leave out --kind");
  }
  for (ItemKind k : kinds) policy.add_kinds(k);

  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto in_force = client->SetSharingPolicy(policy);
  if (!in_force.ok()) return Fail(in_force.status());
  ctx.out().Result(*in_force, PolicyText(*in_force));
  return kExitOk;
}

int RunPolicy(Context& ctx, const ParsedArgs&) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto policy = client->GetSharingPolicy();
  if (!policy.ok()) return Fail(policy.status());
  ctx.out().Result(*policy, PolicyText(*policy));
  return kExitOk;
}

}  // namespace

std::vector<Command> CatalogueCommands() {
  const std::string item_kinds = JoinedShortNames(fedhub::v1::ItemKind_descriptor());
  return {
      {{"catalogue list",
        {},
        "List the catalogue items shared with you (or, with --own, your own), every page.",
        {{"own", 0, "", "your own published items instead"},
         {"kind", 0, "K[,K]", "only these kinds: " + item_kinds, true},
         {"tag", 0, "T", "only items with one of these tags", true},
         {"language", 0, "L", "only items in one of these languages (\"en\" takes \"en-GB\")",
          true}},
        "Items come in publisher, then item id order, each in its last published state;\n"
        "OFFSET is the event-log offset of the change that produced it. PRICE is in the\n"
        "currency's minor units (cents for EUR)."},
       RunList},
      {{"catalogue share",
        {},
        "Set who receives your catalogue, and which kinds of it; prints the policy in force.",
        {{"with", 0, "P[,P]", "these member platforms", true},
         {"all-members", 0, "", "every registered member platform"},
         {"nobody", 0, "", "stop sharing (the default before any policy is set)"},
         {"kind", 0, "K[,K]", "only these kinds (default every kind): " + item_kinds, true}},
        "Replaces your whole policy. It applies to every delivery after the command returns,\n"
        "including deliveries of events already in the log."},
       RunShare},
      {{"catalogue policy", {}, "Show who receives your catalogue, and which kinds.", {}},
       RunPolicy},
  };
}

}  // namespace fedhubctl
