#include "crash_fs.h"

#include <filesystem>
#include <utility>
#include <vector>

namespace fedhub::durability {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// One spelling per path, so "/d//f" and "/d/f" (or "/d/" and "/d") are the same key.
std::string Normal(const std::string& path) {
  std::filesystem::path p = std::filesystem::path(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p.string();
}

std::pair<std::string, std::string> DirAndName(const std::string& normal_path) {
  std::filesystem::path p(normal_path);
  return {p.parent_path().string(), p.filename().string()};
}

IOStatus FrozenError() {
  return IOStatus::IOError("simulated power cut: the file system accepts no more writes");
}

}  // namespace

// A writable file that records how much of it is appended and how much is synced.
// Once the file system is frozen, appends still reach the page cache (the real file)
// and syncs fail.
class CrashFileSystem::File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(std::unique_ptr<FSWritableFile> target, CrashFileSystem* fs,
       std::shared_ptr<FileState> state)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), state_(std::move(state)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) Grow(data.size());
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    IOStatus s = target()->Append(data, options, info, dbg);
    if (s.ok()) Grow(data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) GrowTo(offset + data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    IOStatus s = target()->PositionedAppend(data, offset, options, info, dbg);
    if (s.ok()) GrowTo(offset + data.size());
    return s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      std::lock_guard lock(fs_->mu_);
      state_->size = size;
      if (state_->synced > size) state_->synced = size;
    }
    return s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Sync(options, dbg); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Fsync(options, dbg); });
  }
  // RangeSync (sync_file_range) is forwarded by the base class and is not a
  // durability point.

 private:
  template <typename Fn>
  IOStatus SyncWith(Fn sync) {
    uint64_t upto = 0;
    {
      std::lock_guard lock(fs_->mu_);
      if (fs_->frozen_) return FrozenError();
      upto = state_->size;
    }
    IOStatus s = sync();
    if (!s.ok()) return s;
    std::lock_guard lock(fs_->mu_);
    // Bytes appended before the sync began are durable; a concurrent Append's are not.
    if (upto > state_->synced) state_->synced = upto;
    fs_->CountSyncLocked();
    return s;
  }
  void Grow(uint64_t n) {
    std::lock_guard lock(fs_->mu_);
    state_->size += n;
  }
  void GrowTo(uint64_t end) {
    std::lock_guard lock(fs_->mu_);
    if (end > state_->size) state_->size = end;
  }

  CrashFileSystem* fs_;
  std::shared_ptr<FileState> state_;
};

// A directory whose fsync makes the names created in it durable.
class CrashFileSystem::Directory : public rocksdb::FSDirectoryWrapper {
 public:
  Directory(std::unique_ptr<FSDirectory> target, CrashFileSystem* fs, std::string path)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (IOStatus f = fs_->CheckActive(); !f.ok()) return f;
    IOStatus s = FSDirectoryWrapper::Fsync(options, dbg);
    if (s.ok()) fs_->DirSynced(path_);
    return s;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    if (IOStatus f = fs_->CheckActive(); !f.ok()) return f;
    IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->DirSynced(path_);
    return s;
  }

 private:
  CrashFileSystem* fs_;
  std::string path_;
};

CrashFileSystem::CrashFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

CrashFileSystem::~CrashFileSystem() = default;

std::optional<std::string> CrashFileSystem::ReadIfExists(const std::string& path) {
  if (!target()->FileExists(path, IOOptions(), nullptr).ok()) return std::nullopt;
  std::string content;
  if (!rocksdb::ReadFileToString(target(), path, &content).ok()) return std::nullopt;
  // Of a tracked file, only the synced part would survive.
  std::lock_guard lock(mu_);
  if (auto it = files_.find(path); it != files_.end() && content.size() > it->second->synced) {
    content.resize(it->second->synced);
  }
  return content;
}

void CrashFileSystem::NoteNewNameLocked(const std::string& path,
                                        std::optional<std::string> previous) {
  auto [dir, name] = DirAndName(path);
  auto& names = pending_names_[dir];
  // A name already pending keeps what it had before it first appeared.
  names.emplace(name, std::move(previous));
}

void CrashFileSystem::DirSynced(const std::string& dir) {
  std::lock_guard lock(mu_);
  pending_names_.erase(dir);
}

IOStatus CrashFileSystem::NewWritableFile(const std::string& fname, const FileOptions& opts,
                                          std::unique_ptr<FSWritableFile>* result,
                                          IODebugContext* dbg) {
  if (IOStatus f = CheckActive(); !f.ok()) return f;
  std::string path = Normal(fname);
  bool existed = target()->FileExists(path, IOOptions(), nullptr).ok();
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(fname, opts, &file, dbg);
  if (!s.ok()) return s;
  auto state = std::make_shared<FileState>();
  {
    std::lock_guard lock(mu_);
    // An existing name stays; its new content is durable only once synced.
    if (!existed) NoteNewNameLocked(path, std::nullopt);
    files_[path] = state;
  }
  *result = std::make_unique<File>(std::move(file), this, std::move(state));
  return s;
}

IOStatus CrashFileSystem::ReopenWritableFile(const std::string& fname, const FileOptions& opts,
                                             std::unique_ptr<FSWritableFile>* result,
                                             IODebugContext* dbg) {
  if (IOStatus f = CheckActive(); !f.ok()) return f;
  std::string path = Normal(fname);
  bool existed = target()->FileExists(path, IOOptions(), nullptr).ok();
  uint64_t size = 0;
  if (existed && !target()->GetFileSize(path, IOOptions(), &size, nullptr).ok()) size = 0;
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(fname, opts, &file, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<FileState> state;
  {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it != files_.end()) {
      state = it->second;
    } else {
      // Untracked content was there before this file system saw it: durable.
      state = std::make_shared<FileState>();
      state->size = state->synced = size;
      files_[path] = state;
      if (!existed) NoteNewNameLocked(path, std::nullopt);
    }
  }
  *result = std::make_unique<File>(std::move(file), this, std::move(state));
  return s;
}

IOStatus CrashFileSystem::ReuseWritableFile(const std::string& fname,
                                            const std::string& old_fname,
                                            const FileOptions& opts,
                                            std::unique_ptr<FSWritableFile>* result,
                                            IODebugContext* dbg) {
  // As FileSystem's own default: rename, then open afresh, both tracked.
  IOStatus s = RenameFile(old_fname, fname, IOOptions(), dbg);
  if (!s.ok()) return s;
  return NewWritableFile(fname, opts, result, dbg);
}

IOStatus CrashFileSystem::NewDirectory(const std::string& name, const IOOptions& opts,
                                       std::unique_ptr<FSDirectory>* result,
                                       IODebugContext* dbg) {
  std::unique_ptr<FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, opts, &dir, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<Directory>(std::move(dir), this, Normal(name));
  return s;
}

IOStatus CrashFileSystem::DeleteFile(const std::string& fname, const IOOptions& opts,
                                     IODebugContext* dbg) {
  if (IOStatus f = CheckActive(); !f.ok()) return f;
  IOStatus s = target()->DeleteFile(fname, opts, dbg);
  if (s.ok()) {
    std::string path = Normal(fname);
    auto [dir, name] = DirAndName(path);
    std::lock_guard lock(mu_);
    files_.erase(path);
    if (auto it = pending_names_.find(dir); it != pending_names_.end()) it->second.erase(name);
  }
  return s;
}

IOStatus CrashFileSystem::RenameFile(const std::string& src, const std::string& target_name,
                                     const IOOptions& opts, IODebugContext* dbg) {
  if (IOStatus f = CheckActive(); !f.ok()) return f;
  std::string from = Normal(src);
  std::string to = Normal(target_name);
  std::optional<std::string> previous = ReadIfExists(to);
  IOStatus s = target()->RenameFile(src, target_name, opts, dbg);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  auto node = files_.extract(from);
  files_.erase(to);
  if (!node.empty()) {
    node.key() = to;
    files_.insert(std::move(node));
  }
  auto [from_dir, from_name] = DirAndName(from);
  bool from_pending = false;
  if (auto it = pending_names_.find(from_dir); it != pending_names_.end()) {
    from_pending = it->second.erase(from_name) > 0;
  }
  // The new name is durable only with its directory. A rename of a long-durable file
  // is treated as durable at once (RocksDB renames only files it has just written).
  if (from_pending) NoteNewNameLocked(to, std::move(previous));
  return s;
}

IOStatus CrashFileSystem::LinkFile(const std::string& src, const std::string& target_name,
                                   const IOOptions& opts, IODebugContext* dbg) {
  if (IOStatus f = CheckActive(); !f.ok()) return f;
  IOStatus s = target()->LinkFile(src, target_name, opts, dbg);
  if (!s.ok()) return s;
  std::string from = Normal(src);
  std::string to = Normal(target_name);
  std::lock_guard lock(mu_);
  if (auto it = files_.find(from); it != files_.end()) files_[to] = it->second;
  NoteNewNameLocked(to, std::nullopt);
  return s;
}

IOStatus CrashFileSystem::Truncate(const std::string& fname, size_t size, const IOOptions& opts,
                                   IODebugContext* dbg) {
  if (IOStatus f = CheckActive(); !f.ok()) return f;
  IOStatus s = target()->Truncate(fname, size, opts, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    if (auto it = files_.find(Normal(fname)); it != files_.end()) {
      it->second->size = size;
      if (it->second->synced > size) it->second->synced = size;
    }
  }
  return s;
}

void CrashFileSystem::FreezeAfterSyncs(uint64_t n) {
  std::lock_guard lock(mu_);
  freeze_at_ = syncs_ + n;
  if (n == 0) frozen_ = true;
}

bool CrashFileSystem::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

IOStatus CrashFileSystem::CheckActive() const {
  std::lock_guard lock(mu_);
  return frozen_ ? FrozenError() : IOStatus::OK();
}

void CrashFileSystem::CountSyncLocked() {
  ++syncs_;
  ++stats_.file_syncs;
  if (freeze_at_ && syncs_ >= *freeze_at_) frozen_ = true;
}

IOStatus CrashFileSystem::CutTo(const std::string& path, uint64_t size) {
  IOStatus s = target()->Truncate(path, static_cast<size_t>(size), IOOptions(), nullptr);
  if (s.ok() || !s.IsNotSupported()) return s;
  // The POSIX file system has no Truncate in this RocksDB: cut the real file directly.
  std::error_code ec;
  std::filesystem::resize_file(path, size, ec);
  if (ec) return IOStatus::IOError("cannot truncate " + path + ": " + ec.message());
  return IOStatus::OK();
}

IOStatus CrashFileSystem::SimulateCrash() {
  std::lock_guard lock(mu_);
  IOOptions io;
  IOStatus first_error;
  auto note = [&first_error](IOStatus s) {
    if (!s.ok() && first_error.ok()) first_error = s;
  };
  // Names whose directory was never synced since they appeared: gone, or back to the
  // content they had before a rename.
  for (auto& [dir, names] : pending_names_) {
    for (auto& [name, previous] : names) {
      std::string path = dir + "/" + name;
      uint64_t size = 0;
      if (!target()->GetFileSize(path, io, &size, nullptr).ok()) size = 0;
      if (previous) {
        if (size > previous->size()) stats_.dropped_bytes += size - previous->size();
        note(rocksdb::WriteStringToFile(target(), *previous, path, /*should_sync=*/true));
        ++stats_.restored_files;
      } else {
        stats_.dropped_bytes += size;
        note(target()->DeleteFile(path, io, nullptr));
        ++stats_.removed_files;
      }
      files_.erase(path);
    }
  }
  pending_names_.clear();
  // Surviving files: cut back to the last synced length.
  for (auto& [path, state] : files_) {
    uint64_t size = 0;
    if (!target()->GetFileSize(path, io, &size, nullptr).ok()) continue;
    if (size > state->synced) {
      stats_.dropped_bytes += size - state->synced;
      note(CutTo(path, state->synced));
      ++stats_.truncated_files;
    }
    state->size = state->synced;
  }
  // What is left is durable; a later open tracks files afresh.
  files_.clear();
  frozen_ = false;
  freeze_at_.reset();
  ++stats_.crashes;
  return first_error;
}

CrashFileSystem::Stats CrashFileSystem::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

uint64_t CrashFileSystem::unsynced_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [path, state] : files_) total += state->size - state->synced;
  return total;
}

std::unique_ptr<rocksdb::Env> NewCrashEnv(std::shared_ptr<CrashFileSystem>* fs) {
  auto crash = std::make_shared<CrashFileSystem>(rocksdb::FileSystem::Default());
  if (fs != nullptr) *fs = crash;
  return rocksdb::NewCompositeEnv(crash);
}

}  // namespace fedhub::durability
