// End to end, as an auditor works: sign heads, export inclusion and consistency proofs with
// fedhubctl, verify them offline with nothing but the hub's public key — with fedhubctl and
// with the standard-library Python verifier in tools/ — and see tampering named.
#include <google/protobuf/util/json_util.h>

#include <fstream>

#include "cli_fixture.h"
#include "fedhub/v1/audit.pb.h"
#include "fedhub/v1/hub.pb.h"

#ifndef FEDHUB_PYTHON3
#error "FEDHUB_PYTHON3 must name a Python 3 interpreter"
#endif
#ifndef FEDHUB_VERIFY_PROOF_PY
#error "FEDHUB_VERIFY_PROOF_PY must name tools/fedhub_verify_proof.py"
#endif

namespace fedhub::e2e {
namespace {

class AuditProofTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(Bootstrap());
    Grant(dir_ / "receipt.json");
    // The hub's public key, as an auditor gets it out of band.
    auto info = ParseJson<v1::GetHubInfoResponse>(Trim(CtlOk("auditor", {"--json", "info"})));
    key_ = dir_ / "hub.pub.pem";
    std::ofstream(key_) << info.signing_public_key_pem();
    other_key_ = dir_ / "other.pub.pem";
    // A well-formed Ed25519 key that is not the hub's (RFC 8032 test vector 1's public key).
    std::ofstream(other_key_) << "-----BEGIN PUBLIC KEY-----\n"
                                 "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                                 "-----END PUBLIC KEY-----\n";
  }

  // Both verifiers on an exported file: fedhubctl offline, then the Python one.
  void ExpectBothVerify(const fs::path& file, int want) {
    RunResult ctl = RunProcess({FEDHUBCTL, "audit", "check", file.string(), "--hub-key", key_.string()});
    EXPECT_EQ(ctl.exit_code, want) << ctl.Describe();
    RunResult py = RunProcess({FEDHUB_PYTHON3, FEDHUB_VERIFY_PROOF_PY, file.string(), "--hub-key", key_.string()});
    EXPECT_EQ(py.exit_code, want) << py.Describe();
    last_ctl_ = ctl.out + ctl.err;
    last_py_ = py.out + py.err;
  }

  // Rewrites `from` into `to` with `edit` applied to its parsed JSON message.
  template <typename Message>
  void Edit(const fs::path& from, const fs::path& to, const std::function<void(Message&)>& edit) {
    Message m = ParseJson<Message>(Trim(ReadFile(from)));
    edit(m);
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(m, &json, o).ok());
    std::ofstream(to) << json << "\n";
  }

  fs::path key_, other_key_;
  std::string last_ctl_, last_py_;
};

TEST_F(AuditProofTest, InclusionAndConsistencyProofsVerifyOfflineWithBothVerifiers) {
  const fs::path head1 = dir_ / "head1.json";
  std::string out = CtlOk("auditor", {"audit", "head", "--sign", "--out", head1.string()});
  EXPECT_THAT(out, HasSubstr("verified with the hub key"));
  auto first = ParseJson<v1::SignedTreeHead>(Trim(ReadFile(head1)));
  ASSERT_GE(first.tree_size(), 4u);
  ExpectBothVerify(head1, 0);

  // Every entry so far is provable against the first head.
  for (uint64_t seq = 1; seq <= first.tree_size(); ++seq) {
    const fs::path proof = dir_ / ("inclusion" + std::to_string(seq) + ".json");
    CtlOk("auditor", {"audit", "prove", std::to_string(seq), "--size", std::to_string(first.tree_size()), "--out",
                      proof.string(), "--hub-key", key_.string()});
    ExpectBothVerify(proof, 0);
  }

  // More activity, a second head, and the proof that it extends the first.
  Grant(dir_ / "receipt2.json");
  CtlOk("auditor", {"audit", "head", "--sign"});
  const fs::path consistency = dir_ / "consistency.json";
  out = CtlOk("auditor", {"audit", "consistency", std::to_string(first.tree_size()), "--out", consistency.string()});
  EXPECT_THAT(out, HasSubstr("extends signed head #1"));
  ExpectBothVerify(consistency, 0);
  EXPECT_EQ(Lines(CtlOk("auditor", {"--json", "audit", "heads"})).size(), 2u);
}

TEST_F(AuditProofTest, TamperingIsDetectedAndNamedByBothVerifiers) {
  CtlOk("auditor", {"audit", "head", "--sign"});
  const fs::path proof = dir_ / "proof.json";
  CtlOk("auditor", {"audit", "prove", "3", "--out", proof.string()});
  ExpectBothVerify(proof, 0);

  const fs::path bad = dir_ / "bad.json";
  // A changed entry: its bytes no longer match its hash.
  Edit<v1::InclusionProof>(proof, bad, [](v1::InclusionProof& p) { (*p.mutable_entry()->mutable_encoded())[10] ^= 1; });
  ExpectBothVerify(bad, 2);
  EXPECT_THAT(last_ctl_, HasSubstr("content does not match its entry hash"));
  EXPECT_THAT(last_py_, HasSubstr("entry hash"));
  // The entry moved to another position.
  Edit<v1::InclusionProof>(proof, bad, [](v1::InclusionProof& p) {
    p.mutable_entry()->set_sequence(4);
    p.set_leaf_index(3);
  });
  ExpectBothVerify(bad, 2);
  // A path hash changed.
  Edit<v1::InclusionProof>(proof, bad, [](v1::InclusionProof& p) { (*p.mutable_audit_path(0))[0] ^= 1; });
  ExpectBothVerify(bad, 2);
  EXPECT_THAT(last_ctl_, HasSubstr("leads to root"));
  EXPECT_THAT(last_py_, HasSubstr("root"));
  // A forged head: another root, the old signature.
  Edit<v1::InclusionProof>(proof, bad, [](v1::InclusionProof& p) { (*p.mutable_head()->mutable_root_hash())[0] ^= 1; });
  ExpectBothVerify(bad, 2);
  EXPECT_THAT(last_ctl_, HasSubstr("does not verify"));
  EXPECT_THAT(last_py_, HasSubstr("signature"));
  // The right proof, checked with another key.
  RunResult other = RunProcess({FEDHUBCTL, "audit", "check", proof.string(), "--hub-key", other_key_.string()});
  EXPECT_EQ(other.exit_code, 2) << other.Describe();
  EXPECT_THAT(other.out, HasSubstr("was signed by key"));
  RunResult py = RunProcess({FEDHUB_PYTHON3, FEDHUB_VERIFY_PROOF_PY, proof.string(), "--hub-key", other_key_.string()});
  EXPECT_EQ(py.exit_code, 2) << py.Describe();
}

TEST_F(AuditProofTest, ProofRequestsAreCheckedAndAuditorOnly) {
  RunResult none = Ctl("auditor", {"audit", "prove", "1"});
  EXPECT_EQ(none.exit_code, 1) << none.Describe();
  EXPECT_THAT(none.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(none.err, HasSubstr("SignTreeHead"));
  CtlOk("auditor", {"audit", "head", "--sign"});
  RunResult late = Ctl("auditor", {"audit", "prove", "100000"});
  EXPECT_EQ(late.exit_code, 1) << late.Describe();
  EXPECT_THAT(late.err, HasSubstr("OUT_OF_RANGE"));
  RunResult platform = Ctl("courses", {"audit", "prove", "1"});
  EXPECT_EQ(platform.exit_code, 1) << platform.Describe();
  EXPECT_THAT(platform.err, HasSubstr("PERMISSION_DENIED"));
  RunResult sign = Ctl("courses", {"audit", "head", "--sign"});
  EXPECT_THAT(sign.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_EQ(Ctl("auditor", {"audit", "prove", "zero"}).exit_code, 64);
  RunResult check = RunProcess({FEDHUBCTL, "audit", "check", (dir_ / "missing.json").string()});
  EXPECT_EQ(check.exit_code, 64) << check.Describe();
}

}  // namespace
}  // namespace fedhub::e2e
