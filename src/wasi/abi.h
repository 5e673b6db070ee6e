// The wasi_snapshot_preview1 ABI: error numbers, flags, rights and the byte layout of the
// structures guests pass by pointer (little-endian, offsets from the witx definitions).
#pragma once

#include <cstdint>

namespace wasm_sandbox::wasi {

enum class Errno : uint16_t {
  Success = 0,
  TooBig = 1,
  Access = 2,
  AddrInUse = 3,
  AddrNotAvail = 4,
  AfNoSupport = 5,
  Again = 6,
  Already = 7,
  BadF = 8,
  BadMsg = 9,
  Busy = 10,
  Canceled = 11,
  Child = 12,
  ConnAborted = 13,
  ConnRefused = 14,
  ConnReset = 15,
  DeadLk = 16,
  DestAddrReq = 17,
  Dom = 18,
  DQuot = 19,
  Exist = 20,
  Fault = 21,
  FBig = 22,
  HostUnreach = 23,
  IdRm = 24,
  IlSeq = 25,
  InProgress = 26,
  Intr = 27,
  Inval = 28,
  Io = 29,
  IsConn = 30,
  IsDir = 31,
  Loop = 32,
  MFile = 33,
  MLink = 34,
  MsgSize = 35,
  MultiHop = 36,
  NameTooLong = 37,
  NetDown = 38,
  NetReset = 39,
  NetUnreach = 40,
  NFile = 41,
  NoBufs = 42,
  NoDev = 43,
  NoEnt = 44,
  NoExec = 45,
  NoLck = 46,
  NoLink = 47,
  NoMem = 48,
  NoMsg = 49,
  NoProtoOpt = 50,
  NoSpc = 51,
  NoSys = 52,
  NotConn = 53,
  NotDir = 54,
  NotEmpty = 55,
  NotRecoverable = 56,
  NotSock = 57,
  NotSup = 58,
  NoTty = 59,
  NxIo = 60,
  Overflow = 61,
  OwnerDead = 62,
  Perm = 63,
  Pipe = 64,
  Proto = 65,
  ProtoNoSupport = 66,
  ProtoType = 67,
  Range = 68,
  RoFs = 69,
  SPipe = 70,
  Srch = 71,
  Stale = 72,
  TimedOut = 73,
  TxtBsy = 74,
  XDev = 75,
  NotCapable = 76,
};

// The WASI error for a host errno value.
Errno from_errno(int host_errno);

enum class FileType : uint8_t {
  Unknown = 0,
  BlockDevice = 1,
  CharacterDevice = 2,
  Directory = 3,
  RegularFile = 4,
  SocketDgram = 5,
  SocketStream = 6,
  SymbolicLink = 7,
};

namespace rights {
inline constexpr uint64_t kFdDatasync = 1ull << 0, kFdRead = 1ull << 1, kFdSeek = 1ull << 2,
                          kFdFdstatSetFlags = 1ull << 3, kFdSync = 1ull << 4, kFdTell = 1ull << 5,
                          kFdWrite = 1ull << 6, kFdAdvise = 1ull << 7, kFdAllocate = 1ull << 8,
                          kPathCreateDirectory = 1ull << 9, kPathCreateFile = 1ull << 10,
                          kPathLinkSource = 1ull << 11, kPathLinkTarget = 1ull << 12,
                          kPathOpen = 1ull << 13, kFdReaddir = 1ull << 14,
                          kPathReadlink = 1ull << 15, kPathRenameSource = 1ull << 16,
                          kPathRenameTarget = 1ull << 17, kPathFilestatGet = 1ull << 18,
                          kPathFilestatSetSize = 1ull << 19, kPathFilestatSetTimes = 1ull << 20,
                          kFdFilestatGet = 1ull << 21, kFdFilestatSetSize = 1ull << 22,
                          kFdFilestatSetTimes = 1ull << 23, kPathSymlink = 1ull << 24,
                          kPathRemoveDirectory = 1ull << 25, kPathUnlinkFile = 1ull << 26,
                          kPollFdReadwrite = 1ull << 27, kSockShutdown = 1ull << 28,
                          kSockAccept = 1ull << 29;
inline constexpr uint64_t kAll = (1ull << 30) - 1;
// What a descriptor that refers to a directory can do, and what one for a regular file can.
inline constexpr uint64_t kDirectory =
    kFdFdstatSetFlags | kFdSync | kFdAdvise | kPathCreateDirectory | kPathCreateFile |
    kPathLinkSource | kPathLinkTarget | kPathOpen | kFdReaddir | kPathReadlink | kPathRenameSource |
    kPathRenameTarget | kPathFilestatGet | kPathFilestatSetSize | kPathFilestatSetTimes |
    kFdFilestatGet | kFdFilestatSetTimes | kPathSymlink | kPathRemoveDirectory | kPathUnlinkFile |
    kPollFdReadwrite;
inline constexpr uint64_t kFile = kFdDatasync | kFdRead | kFdSeek | kFdFdstatSetFlags | kFdSync |
                                  kFdTell | kFdWrite | kFdAdvise | kFdAllocate | kFdFilestatGet |
                                  kFdFilestatSetSize | kFdFilestatSetTimes | kPollFdReadwrite;
inline constexpr uint64_t kStream =
    kFdRead | kFdWrite | kFdFdstatSetFlags | kFdFilestatGet | kPollFdReadwrite;
inline constexpr uint64_t kSocket = kStream | kSockShutdown | kSockAccept;
}  // namespace rights

namespace fdflags {
inline constexpr uint16_t kAppend = 1, kDsync = 2, kNonblock = 4, kRsync = 8, kSync = 16;
}
namespace oflags {
inline constexpr uint16_t kCreat = 1, kDirectory = 2, kExcl = 4, kTrunc = 8;
}
namespace lookupflags {
inline constexpr uint32_t kSymlinkFollow = 1;
}
namespace fstflags {
inline constexpr uint16_t kAtim = 1, kAtimNow = 2, kMtim = 4, kMtimNow = 8;
}
namespace whence {
inline constexpr uint8_t kSet = 0, kCur = 1, kEnd = 2;
}
namespace clockid {
inline constexpr uint32_t kRealtime = 0, kMonotonic = 1, kProcessCputime = 2, kThreadCputime = 3;
}
namespace eventtype {
inline constexpr uint8_t kClock = 0, kFdRead = 1, kFdWrite = 2;
}
inline constexpr uint16_t kEventHangup = 1;
inline constexpr uint16_t kSubclockAbstime = 1;
inline constexpr uint16_t kRiflagRecvPeek = 1, kRiflagRecvWaitall = 2;
inline constexpr uint16_t kRoflagDataTruncated = 1;
inline constexpr uint8_t kSdflagRd = 1, kSdflagWr = 2;

// Structure sizes and field offsets.
namespace layout {
inline constexpr uint32_t kIovecSize = 8;  // buf: u32 @0, buf_len: u32 @4
inline constexpr uint32_t kFdstatSize = 24;
inline constexpr uint32_t kFilestatSize = 64;
inline constexpr uint32_t kDirentSize = 24;  // d_next @0, d_ino @8, d_namlen @16, d_type @20
inline constexpr uint32_t kPrestatSize = 8;  // tag: u8 @0, pr_name_len: u32 @4
inline constexpr uint32_t kSubscriptionSize = 48;
inline constexpr uint32_t kEventSize = 32;
}  // namespace layout

}  // namespace wasm_sandbox::wasi
