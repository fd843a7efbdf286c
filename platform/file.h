// Files and directories. Every function returns an error value naming the path and errno text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::platform {

// Creates `path` and its parents; OK if it exists.
Status MakeDirs(const std::string& path);
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);  // a directory this process may read
Result<uint64_t> FileSize(const std::string& path);
// The permission bits of `path` (st_mode & 07777), following symlinks.
Result<uint32_t> FileMode(const std::string& path);
// Bytes available to an unprivileged writer on the filesystem holding `path`.
Result<uint64_t> FreeBytes(const std::string& path);
Result<std::string> ReadFile(const std::string& path);
Status RenamePath(const std::string& from, const std::string& to);
Status RemoveFile(const std::string& path);  // OK if it does not exist
// Writes `data` to a temporary file beside `path`, flushes it, renames it into place and flushes
// the directory: after OK the file survives a crash or power loss whole or not at all.
// kNoSpace when the disk is full.
Status WriteFileAtomic(const std::string& path, std::string_view data);
// fsync of a directory, so a rename inside it is durable.
Status SyncDir(const std::string& dir);
std::string DirName(const std::string& path);

}  // namespace ferry::platform
