// fedhub_tamper: alters one stored chain entry of a stopped hub's data directory, to show
// that `fedhubctl audit verify` notices. Opens the RocksDB database with every column
// family it has, reads the entry u64be(SEQUENCE) of the chain's column family, flips one
// bit of one byte of its encoded record (after prev_hash[32] and entry_hash[32]) and writes
// it back, synced.
//
//   usage: fedhub_tamper DATA_DIR SEQUENCE [audit|ledger]
#include <rocksdb/db.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr size_t kHashesSize = 64;  // prev_hash[32] entry_hash[32]

std::string U64BE(uint64_t v) {
  std::string k;
  for (int s = 56; s >= 0; s -= 8) k.push_back(static_cast<char>(v >> s & 0xff));
  return k;
}

int Tamper(const std::string& path, uint64_t sequence, const std::string& cf_name) {
  rocksdb::DBOptions db_options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
  if (!s.ok()) {
    std::cerr << "fedhub_tamper: cannot list column families of " << path << ": " << s.ToString()
              << "\n";
    return 1;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    std::cerr << "fedhub_tamper: cannot open " << path << ": " << s.ToString() << "\n";
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  int result = 1;
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == cf_name) cf = handles[i];
  }
  std::string value;
  if (cf == nullptr) {
    std::cerr << "fedhub_tamper: no column family \"" << cf_name << "\" in " << path << "\n";
  } else if (s = db->Get(rocksdb::ReadOptions(), cf, U64BE(sequence), &value); !s.ok()) {
    std::cerr << "fedhub_tamper: " << cf_name << " entry " << sequence << ": " << s.ToString()
              << "\n";
  } else if (value.size() <= kHashesSize) {
    std::cerr << "fedhub_tamper: " << cf_name << " entry " << sequence << " has no encoded part\n";
  } else {
    const size_t at = kHashesSize + (value.size() - kHashesSize) / 2;
    value[at] = static_cast<char>(value[at] ^ 0x01);
    rocksdb::WriteOptions write;
    write.sync = true;
    s = db->Put(write, cf, U64BE(sequence), value);
    if (s.ok()) {
      std::cout << "flipped a bit of byte " << at << " of " << cf_name << " entry " << sequence
                << "\n";
      result = 0;
    } else {
      std::cerr << "fedhub_tamper: write failed: " << s.ToString() << "\n";
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  s = db->Close();
  if (!s.ok() && result == 0) {
    std::cerr << "fedhub_tamper: close failed: " << s.ToString() << "\n";
    result = 1;
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: fedhub_tamper DATA_DIR SEQUENCE [audit|ledger]\n";
    return 64;
  }
  uint64_t sequence = 0;
  try {
    sequence = std::stoull(argv[2]);
  } catch (const std::exception&) {
    std::cerr << "fedhub_tamper: SEQUENCE must be a number\n";
    return 64;
  }
  return Tamper(argv[1], sequence, argc == 4 ? argv[3] : "audit");
}
