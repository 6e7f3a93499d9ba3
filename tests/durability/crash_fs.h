// A RocksDB file system that can lose power.
//
// CrashFileSystem passes every write through to the real file system (so the running
// database sees exactly what it would see with an operating-system page cache) and
// records what a power cut could take away:
//   * per writable file, the bytes appended since the last Sync/Fsync. RangeSync is not
//     a durability point (sync_file_range does not flush the disk's cache or the file's
//     metadata), so its bytes stay unsynced;
//   * per directory, the names created or renamed into it since the directory was last
//     fsynced. A new name is only durable once its directory is; a rename over an
//     existing file keeps the old content until then.
// SimulateCrash() applies the power cut to the real files: every tracked file is cut
// back to its last synced length, names created since their directory's last fsync are
// removed, and names renamed over an older file get the older content back. Afterwards
// the state counts as durable, so crash cycles can repeat.
//
// Not modelled: deletions, directory creation and renames of files that were already
// durable are treated as durable at once, and writes through NewRandomRWFile are not
// tracked (RocksDB writes its WAL, MANIFEST, CURRENT, OPTIONS and SST files through
// NewWritableFile, and renames only files it has just written).
//
// Use: open the database with an Env from NewCrashEnv(), write, destroy the database
// object without flushing memtables (Options::avoid_flush_during_shutdown), then call
// SimulateCrash() and reopen with any Env. To cut the power while writers are still
// running, FreezeAfterSyncs() first makes every sync after a given number fail, as on
// a machine whose disk has stopped.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_TESTS_DURABILITY_CRASH_FS_H_
#define FEDHUB_TESTS_DURABILITY_CRASH_FS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace fedhub::durability {

class CrashFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // Over the file system's lifetime: what SimulateCrash() undid, and syncs seen.
  struct Stats {
    uint64_t dropped_bytes = 0;      // unsynced bytes cut from files (including removed ones)
    uint64_t truncated_files = 0;    // files cut back to a shorter synced length
    uint64_t removed_files = 0;      // names removed because their directory was not synced
    uint64_t restored_files = 0;     // renames undone: the older content put back
    uint64_t crashes = 0;
    uint64_t file_syncs = 0;         // successful Sync/Fsync calls on tracked files
  };

  explicit CrashFileSystem(std::shared_ptr<rocksdb::FileSystem> base);
  ~CrashFileSystem() override;

  static const char* kClassName() { return "FedHubCrashFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // Applies a power cut to the real files (see the file comment). Call it only when no
  // database has files open through this file system. Returns the first error met while
  // cutting files (the power cut is then incomplete and a test must not trust it).
  rocksdb::IOStatus SimulateCrash();

  // Cuts the power in the middle of work: once `n` more file syncs have succeeded, every
  // later sync (of a file or a directory), create, rename, link or delete fails with an
  // IOError, as nothing reaches the disk any more. Appends still land in the page cache
  // (the real file) and SimulateCrash() drops them. Whatever the n syncs covered is
  // durable. SimulateCrash() also turns the power back on. n == 0 freezes at once.
  void FreezeAfterSyncs(uint64_t n);
  bool frozen() const;

  Stats stats() const;
  // Bytes SimulateCrash() has dropped so far.
  uint64_t dropped_bytes() const { return stats().dropped_bytes; }
  // Bytes appended and not yet synced, over all tracked files, right now.
  uint64_t unsynced_bytes() const;

  // rocksdb::FileSystem
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size, const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;

 private:
  class File;
  class Directory;
  // Shared with the open file handles.
  struct FileState {
    uint64_t size = 0;    // bytes in the file as the writer sees them
    uint64_t synced = 0;  // bytes a power cut keeps
  };

  // OK, or the IOError every write gets once frozen.
  rocksdb::IOStatus CheckActive() const;
  // After a successful file sync: counts it and freezes when FreezeAfterSyncs says so.
  void CountSyncLocked();
  // Directory fsync: names created in `dir` are durable from now on.
  void DirSynced(const std::string& dir);
  // Records a new name in its directory; `previous` is the content the name had before
  // (nullopt: it did not exist).
  void NoteNewNameLocked(const std::string& path, std::optional<std::string> previous);
  std::optional<std::string> ReadIfExists(const std::string& path);
  // Truncates a real file.
  rocksdb::IOStatus CutTo(const std::string& path, uint64_t size);

  mutable std::mutex mu_;
  // Writable files, by current path. Handles keep their state alive after renames.
  std::map<std::string, std::shared_ptr<FileState>> files_;
  // Directory -> name -> content before the name appeared (nullopt: none).
  std::map<std::string, std::map<std::string, std::optional<std::string>>> pending_names_;
  Stats stats_;
  uint64_t syncs_ = 0;
  std::optional<uint64_t> freeze_at_;
  bool frozen_ = false;
};

// An Env whose file system is a CrashFileSystem over the default one; the file system
// is returned through `fs` for SimulateCrash(). The Env must outlive any database
// opened with it.
std::unique_ptr<rocksdb::Env> NewCrashEnv(std::shared_ptr<CrashFileSystem>* fs);

}  // namespace fedhub::durability

#endif  // FEDHUB_TESTS_DURABILITY_CRASH_FS_H_
