// Tests of CrashFileSystem itself: what a simulated power cut keeps and what it drops,
// first through the FileSystem API, then through a real RocksDB database.
#include "crash_fs.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fedhub::durability {
namespace {

namespace fs = std::filesystem;
using rocksdb::FileOptions;
using rocksdb::IOOptions;

std::string MakeTempDir(const std::string& tag) {
  std::string tmpl = (fs::temp_directory_path() / ("fedhub-" + tag + "-XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) return "";
  return made;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteOutside(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

class CrashFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("crashfs");
    ASSERT_FALSE(dir_.empty());
    env_ = NewCrashEnv(&fs_);
    ASSERT_NE(fs_, nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    EXPECT_TRUE(fs_->NewWritableFile(Path(name), FileOptions(), &f, nullptr).ok());
    return f;
  }
  void Append(rocksdb::FSWritableFile& f, const std::string& data) {
    ASSERT_TRUE(f.Append(data, IOOptions(), nullptr).ok());
  }
  void SyncDir() {
    std::unique_ptr<rocksdb::FSDirectory> d;
    ASSERT_TRUE(fs_->NewDirectory(dir_, IOOptions(), &d, nullptr).ok());
    ASSERT_TRUE(d->Fsync(IOOptions(), nullptr).ok());
  }

  std::string dir_;
  std::shared_ptr<CrashFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

TEST_F(CrashFsTest, SyncedBytesSurviveAndUnsyncedTailIsDropped) {
  auto f = Create("wal");
  SyncDir();
  Append(*f, "durable-");
  ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
  Append(*f, "volatile");
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  EXPECT_EQ(fs_->unsynced_bytes(), 8u);
  EXPECT_EQ(ReadAll(Path("wal")), "durable-volatile");  // the page cache has it all

  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_EQ(ReadAll(Path("wal")), "durable-");
  EXPECT_EQ(fs_->dropped_bytes(), 8u);
  EXPECT_EQ(fs_->stats().truncated_files, 1u);
  EXPECT_EQ(fs_->unsynced_bytes(), 0u);
}

TEST_F(CrashFsTest, FsyncAlsoCountsAndRangeSyncDoesNot) {
  auto f = Create("sst");
  SyncDir();
  Append(*f, "aaaa");
  ASSERT_TRUE(f->Fsync(IOOptions(), nullptr).ok());
  Append(*f, "bbbb");
  ASSERT_TRUE(f->RangeSync(0, 8, IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_EQ(ReadAll(Path("sst")), "aaaa");
  EXPECT_EQ(fs_->dropped_bytes(), 4u);
}

TEST_F(CrashFsTest, FileNeverSyncedIsEmptyAfterCrash) {
  auto f = Create("never");
  SyncDir();  // the name is durable, the content is not
  Append(*f, "0123456789");
  ASSERT_TRUE(f->Flush(IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  ASSERT_TRUE(fs::exists(Path("never")));
  EXPECT_EQ(fs::file_size(Path("never")), 0u);
  EXPECT_EQ(fs_->dropped_bytes(), 10u);
}

TEST_F(CrashFsTest, NewFileInUnsyncedDirectoryIsGone) {
  auto f = Create("orphan");
  Append(*f, "synced but unreachable");
  ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_FALSE(fs::exists(Path("orphan")));
  EXPECT_EQ(fs_->stats().removed_files, 1u);
  EXPECT_EQ(fs_->dropped_bytes(), 22u);
}

TEST_F(CrashFsTest, RenameOverAFileIsUndoneUntilTheDirectoryIsSynced) {
  WriteOutside(Path("CURRENT"), "MANIFEST-000001\n");
  for (bool sync_dir : {false, true}) {
    SCOPED_TRACE(sync_dir ? "directory synced after rename" : "directory not synced");
    auto f = Create("000002.dbtmp");
    Append(*f, "MANIFEST-000002\n");
    ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
    ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
    ASSERT_TRUE(fs_->RenameFile(Path("000002.dbtmp"), Path("CURRENT"), IOOptions(), nullptr).ok());
    EXPECT_EQ(ReadAll(Path("CURRENT")), "MANIFEST-000002\n");
    if (sync_dir) SyncDir();
    ASSERT_TRUE(fs_->SimulateCrash().ok());
    EXPECT_EQ(ReadAll(Path("CURRENT")), sync_dir ? "MANIFEST-000002\n" : "MANIFEST-000001\n");
    EXPECT_FALSE(fs::exists(Path("000002.dbtmp")));
  }
  EXPECT_EQ(fs_->stats().restored_files, 1u);
}

TEST_F(CrashFsTest, FilesWrittenOutsideAreUntouched) {
  WriteOutside(Path("key.pem"), "not written through RocksDB");
  auto f = Create("log");
  Append(*f, "x");
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_EQ(ReadAll(Path("key.pem")), "not written through RocksDB");
}

TEST_F(CrashFsTest, CrashCyclesRepeat) {
  auto f = Create("wal");
  SyncDir();
  Append(*f, "one");
  ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_EQ(fs_->dropped_bytes(), 0u);

  std::unique_ptr<rocksdb::FSWritableFile> g;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("wal"), FileOptions(), &g, nullptr).ok());
  Append(*g, "two");
  ASSERT_TRUE(g->Sync(IOOptions(), nullptr).ok());
  Append(*g, "three");
  ASSERT_TRUE(g->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_EQ(ReadAll(Path("wal")), "onetwo");
  EXPECT_EQ(fs_->dropped_bytes(), 5u);
  EXPECT_EQ(fs_->stats().crashes, 2u);
}

TEST_F(CrashFsTest, FreezeRefusesEveryWriteAfterTheGivenSyncs) {
  auto f = Create("wal");
  SyncDir();
  fs_->FreezeAfterSyncs(1);
  Append(*f, "kept");
  ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());  // the last sync before the cut
  EXPECT_TRUE(fs_->frozen());
  Append(*f, "lost");  // reaches the page cache only
  EXPECT_TRUE(f->Sync(IOOptions(), nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> g;
  EXPECT_TRUE(fs_->NewWritableFile(Path("other"), FileOptions(), &g, nullptr).IsIOError());
  EXPECT_TRUE(fs_->RenameFile(Path("wal"), Path("moved"), IOOptions(), nullptr).IsIOError());
  EXPECT_TRUE(fs_->DeleteFile(Path("wal"), IOOptions(), nullptr).IsIOError());
  EXPECT_EQ(ReadAll(Path("wal")), "keptlost");
  (void)f->Close(IOOptions(), nullptr);

  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_FALSE(fs_->frozen());  // power back on
  EXPECT_EQ(ReadAll(Path("wal")), "kept");
  EXPECT_EQ(fs_->dropped_bytes(), 4u);
  EXPECT_FALSE(fs::exists(Path("other")));
}

// The same semantics seen by RocksDB: a synced write survives the crash, a later
// unsynced one does not, and the database reopens cleanly over what is left.
TEST_F(CrashFsTest, RocksDbKeepsSyncedWritesAndLosesUnsyncedOnes) {
  std::string db_path = Path("db");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.avoid_flush_during_shutdown = true;
    options.env = env_.get();
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, db_path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    rocksdb::WriteOptions unsynced;
    ASSERT_TRUE(db->Put(synced, "acknowledged", "1").ok());
    ASSERT_TRUE(db->Put(unsynced, "in-page-cache", "2").ok());
    EXPECT_GT(fs_->unsynced_bytes(), 0u);
    ASSERT_TRUE(db->Close().ok());
  }
  ASSERT_TRUE(fs_->SimulateCrash().ok());
  EXPECT_GT(fs_->dropped_bytes(), 0u);

  rocksdb::Options options;  // the real file system from here on
  rocksdb::DB* raw = nullptr;
  rocksdb::Status open = rocksdb::DB::Open(options, db_path, &raw);
  ASSERT_TRUE(open.ok()) << open.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "acknowledged", &value).ok());
  EXPECT_EQ(value, "1");
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "in-page-cache", &value).IsNotFound());
}

}  // namespace
}  // namespace fedhub::durability
