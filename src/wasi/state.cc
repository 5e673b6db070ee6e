#include "wasi/state.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

namespace wasm_sandbox::wasi {

Errno from_errno(int e) {
  switch (e) {
    case 0:
      return Errno::Success;
    case E2BIG:
      return Errno::TooBig;
    case EACCES:
      return Errno::Access;
    case EADDRINUSE:
      return Errno::AddrInUse;
    case EADDRNOTAVAIL:
      return Errno::AddrNotAvail;
    case EAFNOSUPPORT:
      return Errno::AfNoSupport;
    case EAGAIN:
      return Errno::Again;
    case EALREADY:
      return Errno::Already;
    case EBADF:
      return Errno::BadF;
    case EBADMSG:
      return Errno::BadMsg;
    case EBUSY:
      return Errno::Busy;
    case ECANCELED:
      return Errno::Canceled;
    case ECHILD:
      return Errno::Child;
    case ECONNABORTED:
      return Errno::ConnAborted;
    case ECONNREFUSED:
      return Errno::ConnRefused;
    case ECONNRESET:
      return Errno::ConnReset;
    case EDEADLK:
      return Errno::DeadLk;
    case EDESTADDRREQ:
      return Errno::DestAddrReq;
    case EDOM:
      return Errno::Dom;
    case EDQUOT:
      return Errno::DQuot;
    case EEXIST:
      return Errno::Exist;
    case EFAULT:
      return Errno::Fault;
    case EFBIG:
      return Errno::FBig;
    case EHOSTUNREACH:
      return Errno::HostUnreach;
    case EIDRM:
      return Errno::IdRm;
    case EILSEQ:
      return Errno::IlSeq;
    case EINPROGRESS:
      return Errno::InProgress;
    case EINTR:
      return Errno::Intr;
    case EINVAL:
      return Errno::Inval;
    case EIO:
      return Errno::Io;
    case EISCONN:
      return Errno::IsConn;
    case EISDIR:
      return Errno::IsDir;
    case ELOOP:
      return Errno::Loop;
    case EMFILE:
      return Errno::MFile;
    case EMLINK:
      return Errno::MLink;
    case EMSGSIZE:
      return Errno::MsgSize;
    case EMULTIHOP:
      return Errno::MultiHop;
    case ENAMETOOLONG:
      return Errno::NameTooLong;
    case ENETDOWN:
      return Errno::NetDown;
    case ENETRESET:
      return Errno::NetReset;
    case ENETUNREACH:
      return Errno::NetUnreach;
    case ENFILE:
      return Errno::NFile;
    case ENOBUFS:
      return Errno::NoBufs;
    case ENODEV:
      return Errno::NoDev;
    case ENOENT:
      return Errno::NoEnt;
    case ENOEXEC:
      return Errno::NoExec;
    case ENOLCK:
      return Errno::NoLck;
    case ENOLINK:
      return Errno::NoLink;
    case ENOMEM:
      return Errno::NoMem;
    case ENOMSG:
      return Errno::NoMsg;
    case ENOPROTOOPT:
      return Errno::NoProtoOpt;
    case ENOSPC:
      return Errno::NoSpc;
    case ENOSYS:
      return Errno::NoSys;
    case ENOTCONN:
      return Errno::NotConn;
    case ENOTDIR:
      return Errno::NotDir;
    case ENOTEMPTY:
      return Errno::NotEmpty;
    case ENOTRECOVERABLE:
      return Errno::NotRecoverable;
    case ENOTSOCK:
      return Errno::NotSock;
    case EOPNOTSUPP:
      return Errno::NotSup;
    case ENOTTY:
      return Errno::NoTty;
    case ENXIO:
      return Errno::NxIo;
    case EOVERFLOW:
      return Errno::Overflow;
    case EOWNERDEAD:
      return Errno::OwnerDead;
    case EPERM:
      return Errno::Perm;
    case EPIPE:
      return Errno::Pipe;
    case EPROTO:
      return Errno::Proto;
    case EPROTONOSUPPORT:
      return Errno::ProtoNoSupport;
    case EPROTOTYPE:
      return Errno::ProtoType;
    case ERANGE:
      return Errno::Range;
    case EROFS:
      return Errno::RoFs;
    case ESPIPE:
      return Errno::SPipe;
    case ESRCH:
      return Errno::Srch;
    case ESTALE:
      return Errno::Stale;
    case ETIMEDOUT:
      return Errno::TimedOut;
    case ETXTBSY:
      return Errno::TxtBsy;
    case EXDEV:
      return Errno::XDev;
    default:
      return Errno::Io;
  }
}

uint32_t WasiState::insert(Descriptor d) {
  for (uint32_t i = 0; i < fds.size(); ++i) {
    if (!fds[i]) {
      fds[i] = std::move(d);
      return i;
    }
  }
  fds.push_back(std::move(d));
  return static_cast<uint32_t>(fds.size() - 1);
}

Errno read_iovecs(const GuestMemory& memory, uint32_t iovs, uint32_t count,
                  std::vector<struct iovec>& out) {
  if (count > IOV_MAX) return Errno::Inval;
  out.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t buf, len;
    const uint64_t at = iovs + uint64_t{i} * layout::kIovecSize;
    if (!memory.load(at, buf) || !memory.load(at + 4, len)) return Errno::Fault;
    auto bytes = memory.bytes(buf, len);
    if (!bytes) return Errno::Fault;
    out[i] = {bytes->data(), bytes->size()};
  }
  return Errno::Success;
}

bool host_clock(uint32_t clock, clockid_t& out) {
  switch (clock) {
    case clockid::kRealtime:
      out = CLOCK_REALTIME;
      return true;
    case clockid::kMonotonic:
      out = CLOCK_MONOTONIC;
      return true;
    case clockid::kProcessCputime:
      out = CLOCK_PROCESS_CPUTIME_ID;
      return true;
    case clockid::kThreadCputime:
      out = CLOCK_THREAD_CPUTIME_ID;
      return true;
    default:
      return false;
  }
}

Errno clock_now(const WasiState& state, uint32_t clock, uint64_t& out) {
  clockid_t host;
  if (!host_clock(clock, host)) return Errno::Inval;
  if (!state.real_clocks) {
    out = state.virtual_ns;
    return Errno::Success;
  }
  struct timespec ts;
  if (clock_gettime(host, &ts) != 0) return from_errno(errno);
  out = to_ns(ts);
  return Errno::Success;
}

}  // namespace wasm_sandbox::wasi
