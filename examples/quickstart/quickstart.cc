// The quickstart scenario, told by the member platforms themselves, using only the public
// SDK: an operator registers two platforms, a course site and a software store link one
// person's accounts, the course site records the person's consent to share learning
// history with the store and gets a signed receipt, the store checks it, the course site
// revokes it, the store's next check is refused, and an auditor verifies both hash chains
// entry by entry without trusting the hub.
//
//   quickstart --endpoint 127.0.0.1:7443 --certs .fedhub/certs
//
// Certificates: <certs>/{ca.crt, operator.*, courses.*, store.*, auditor.*} as written by
// `fedhubctl dev-certs --platform courses --platform store`. Exits 0 when every step
// behaved as the consent model says, 1 otherwise.
#include <cstdlib>
#include <iostream>
#include <string>

#include "fedhub/client.h"
#include "fedhub/verify.h"

namespace {

using fedhub::v1::DATA_CATEGORY_LEARNING;
using fedhub::v1::PURPOSE_SYNC;

struct Args {
  std::string endpoint = "localhost:7443";
  std::string certs = ".fedhub/certs";
};

void Step(const std::string& who, const std::string& what) {
  std::cout << "  [" << who << "] " << what << "\n";
}

[[noreturn]] void Fail(const std::string& what, const absl::Status& status) {
  std::cerr << "quickstart: " << what << " failed: " << absl::StatusCodeToString(status.code())
            << ": " << status.message() << "\n";
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> result, const std::string& what) {
  if (!result.ok()) Fail(what, result.status());
  return *std::move(result);
}

fedhub::Client Connect(const Args& args, const std::string& id) {
  return Must(fedhub::Client::Connect(fedhub::ClientOptions::ForPrincipal(args.certs, id, args.endpoint)),
              "connecting as " + id);
}

std::string Short(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) {
    out += kHex[static_cast<unsigned char>(bytes[i]) >> 4];
    out += kHex[static_cast<unsigned char>(bytes[i]) & 15];
  }
  return out + "…";
}

// Registers `id` unless it already is (the scenario may run against a hub used before).
void EnsureRegistered(fedhub::Client& op, const std::string& id, fedhub::v1::Role role,
                      const std::string& name) {
  fedhub::v1::Principal p;
  p.set_id(id);
  p.set_role(role);
  p.set_display_name(name);
  auto registered = op.RegisterPrincipal(p);
  if (registered.ok()) {
    Step("operator", "registered " + id + " (" + name + ") as " + fedhub::v1::Role_Name(role));
  } else if (registered.status().code() == absl::StatusCode::kAlreadyExists) {
    Step("operator", id + " is already registered");
  } else {
    Fail("registering " + id, registered.status());
  }
}

// Pages through one chain and verifies every entry client-side.
uint64_t VerifyChain(fedhub::Client& auditor, fedhub::v1::Chain chain) {
  fedhub::ChainVerifier verifier(chain);
  fedhub::v1::ChainHead head;
  uint64_t next = 1;
  while (next != 0) {
    auto page = Must(auditor.ListChainEntries(chain, next, 1000), "reading the chain");
    for (const auto& entry : page.entries()) {
      if (absl::Status s = verifier.Add(entry); !s.ok()) Fail("verifying the chain", s);
    }
    next = page.next_sequence();
    head = page.head();
  }
  if (absl::Status s = verifier.CheckHead(head); !s.ok()) Fail("checking the chain head", s);
  return verifier.entries_checked();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--endpoint" || a == "--certs") && i + 1 < argc) {
      (a == "--endpoint" ? args.endpoint : args.certs) = argv[++i];
    } else {
      std::cerr << "usage: quickstart [--endpoint HOST:PORT] [--certs DIR]\n";
      return 64;
    }
  }

  fedhub::Client op = Connect(args, "operator");
  auto info = Must(op.GetHubInfo(), "GetHubInfo");
  std::cout << "FedHub " << info.version() << " at " << args.endpoint << ", receipts signed by key "
            << info.signing_key_id() << "\n\n1. Membership\n";
  EnsureRegistered(op, "courses", fedhub::v1::ROLE_PLATFORM, "Northwind Courses");
  EnsureRegistered(op, "store", fedhub::v1::ROLE_PLATFORM, "Contoso Software & Templates");
  EnsureRegistered(op, "auditor", fedhub::v1::ROLE_AUDITOR, "Data-protection office");

  fedhub::Client courses = Connect(args, "courses");
  fedhub::Client store = Connect(args, "store");
  // Each platform names the person by its own id; the hub alone knows they are one person.
  const std::string course_user = "learner-1001";
  const std::string store_user = "cust-77";

  std::cout << "\n2. Linking one person's accounts\n";
  auto ticket = Must(courses.CreateLinkTicket(course_user), "CreateLinkTicket");
  Step("courses", "issued a one-time link ticket for " + course_user + " (" +
                      std::to_string(ticket.ticket().size()) + " characters, single use)");
  auto redeemed = store.RedeemLinkTicket(ticket.ticket(), store_user);
  if (!redeemed.ok() && redeemed.status().code() != absl::StatusCode::kAlreadyExists) {
    Fail("RedeemLinkTicket", redeemed.status());
  }
  Step("store", "redeemed it for " + store_user + ": linked to the account at " +
                    (redeemed.ok() ? redeemed->linked_platform_id() : std::string("courses (already)")));
  auto again = store.RedeemLinkTicket(ticket.ticket(), store_user);
  Step("store", "redeeming the same ticket again: " +
                    std::string(absl::StatusCodeToString(again.status().code())) + " (" +
                    std::string(again.status().message()) + ")");
  if (again.ok()) Fail("ticket reuse", absl::InternalError("a used ticket was accepted"));

  std::cout << "\n3. Consent\n";
  fedhub::ConsentGrant grant{.local_user_id = course_user,
                             .target_platform_id = "store",
                             .categories = {DATA_CATEGORY_LEARNING},
                             .purposes = {PURPOSE_SYNC},
                             .evidence_method = "web-form",
                             .evidence_reference = "consent-form-2026-11/learner-1001"};
  auto granted = Must(courses.GrantConsent(grant), "GrantConsent");
  Step("courses", "recorded consent " + granted.consent().consent_id() +
                      ": learning history -> store, for sync");
  const std::string key = Must(fedhub::HubPublicKeyFromPem(info.signing_public_key_pem()), "reading the hub key");
  auto body = Must(fedhub::VerifyReceipt(granted.receipt(), key), "verifying the receipt");
  Step("courses", "receipt verified offline with the hub's Ed25519 key: ledger entry " +
                      std::to_string(body.ledger_sequence()) + ", hash " + Short(body.ledger_entry_hash()));

  auto allowed = Must(store.CheckConsent(store_user, "courses", "store", DATA_CATEGORY_LEARNING, PURPOSE_SYNC),
                      "CheckConsent");
  Step("store", std::string("may I receive ") + store_user + "'s learning history from courses? " +
                    (allowed.allowed() ? "ALLOWED under " + allowed.consent_id() : "REFUSED: " + allowed.reason()));
  if (!allowed.allowed()) Fail("the check after the grant", absl::InternalError("refused"));

  auto revoked = Must(courses.RevokeConsent(granted.consent().consent_id(), course_user), "RevokeConsent");
  auto revoke_body = Must(fedhub::VerifyReceipt(revoked.receipt(), key), "verifying the revocation receipt");
  Step("courses", "revoked it; revocation receipt verified (ledger entry " +
                      std::to_string(revoke_body.ledger_sequence()) + ")");

  auto refused = Must(store.CheckConsent(store_user, "courses", "store", DATA_CATEGORY_LEARNING, PURPOSE_SYNC),
                      "CheckConsent");
  Step("store", std::string("same question again? ") +
                    (refused.allowed() ? "ALLOWED" : "REFUSED: " + refused.reason()));
  if (refused.allowed()) Fail("the check after the revocation", absl::InternalError("allowed"));

  std::cout << "\n4. Isolation\n";
  auto peek = store.ListAllConsents(course_user);
  Step("store", "listing consents of courses' user " + course_user + ": " +
                    (peek.ok() ? std::to_string(peek->size()) + " consents visible"
                               : std::string(absl::StatusCodeToString(peek.status().code()))));
  auto reg = store.RegisterPrincipal(fedhub::v1::Principal());
  Step("store", "calling an operator RPC: " + std::string(absl::StatusCodeToString(reg.status().code())) +
                    " (" + std::string(reg.status().message()) + ")");
  if (reg.ok() || reg.status().code() != absl::StatusCode::kPermissionDenied) {
    Fail("the operator-only check", absl::InternalError("a platform reached an operator RPC"));
  }

  std::cout << "\n5. Audit\n";
  fedhub::Client auditor = Connect(args, "auditor");
  uint64_t ledger = VerifyChain(auditor, fedhub::v1::CHAIN_LEDGER);
  uint64_t audit = VerifyChain(auditor, fedhub::v1::CHAIN_AUDIT);
  Step("auditor", "consent ledger verified entry by entry: " + std::to_string(ledger) + " entries");
  Step("auditor", "audit log verified entry by entry: " + std::to_string(audit) +
                      " entries (refused calls above included)");
  std::cout << "\nquickstart: every step behaved as the consent model says.\n";
  return 0;
}
