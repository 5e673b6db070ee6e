// Arguments, environment, clocks, randomness, poll_oneoff, scheduling and sockets.
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "wasi/functions.h"

namespace wasm_sandbox::wasi {
namespace {

// Writes a list of strings the way args_get and environ_get return them: an array of
// pointers at `ptrs` into NUL-terminated copies at `buf`.
Errno store_strings(Env& env, const std::vector<std::string>& list, uint32_t ptrs, uint32_t buf) {
  uint64_t at = buf;
  for (size_t i = 0; i < list.size(); ++i) {
    auto out = env.memory.bytes(at, list[i].size() + 1);
    if (!out || !env.memory.store(ptrs + 4 * uint64_t{i}, static_cast<uint32_t>(at))) {
      return Errno::Fault;
    }
    std::memcpy(out->data(), list[i].c_str(), list[i].size() + 1);
    at += list[i].size() + 1;
  }
  return Errno::Success;
}

Errno store_sizes(Env& env, const std::vector<std::string>& list, uint32_t count_ptr,
                  uint32_t size_ptr) {
  uint64_t bytes = 0;
  for (const auto& s : list) bytes += s.size() + 1;
  if (!env.memory.store(count_ptr, static_cast<uint32_t>(list.size())) ||
      !env.memory.store(size_ptr, static_cast<uint32_t>(bytes))) {
    return Errno::Fault;
  }
  return Errno::Success;
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// xoshiro256** (Blackman and Vigna), a small deterministic generator.
uint64_t next_random(uint64_t (&s)[4]) {
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

struct Subscription {
  uint64_t userdata;
  uint8_t type;
  uint32_t clock;        // clock subscriptions
  uint64_t deadline_ns;  // absolute, on `clock`
  uint32_t fd;           // fd subscriptions
};

struct Event {
  uint64_t userdata;
  Errno error;
  uint8_t type;
  uint64_t nbytes;
  uint16_t flags;
};

bool store_event(const GuestMemory& memory, uint64_t at, const Event& e) {
  auto out = memory.bytes(at, layout::kEventSize);
  if (!out) return false;
  std::fill(out->begin(), out->end(), 0);
  memory.store(at + 0, e.userdata);
  memory.store(at + 8, static_cast<uint16_t>(e.error));
  memory.store(at + 10, e.type);
  memory.store(at + 16, e.nbytes);
  memory.store(at + 24, e.flags);
  return true;
}

Errno socket_descriptor(Env& env, uint32_t fd, uint64_t needed, Descriptor*& out) {
  WASI_TRY(lookup(env, fd, 0, out));
  if (out->kind != Descriptor::Kind::Socket) return Errno::NotSock;
  return (out->rights_base & needed) == needed ? Errno::Success : Errno::NotCapable;
}

}  // namespace

Errno args_get(Env& env, u32 argv, u32 buf) {
  return store_strings(env, env.state.argv, argv, buf);
}
Errno args_sizes_get(Env& env, u32 count, u32 size) {
  return store_sizes(env, env.state.argv, count, size);
}
Errno environ_get(Env& env, u32 environ, u32 buf) {
  return store_strings(env, env.state.environ, environ, buf);
}
Errno environ_sizes_get(Env& env, u32 count, u32 size) {
  return store_sizes(env, env.state.environ, count, size);
}

Errno clock_res_get(Env& env, u32 clock, u32 resolution) {
  clockid_t host;
  if (!host_clock(clock, host)) return Errno::Inval;
  uint64_t ns = 1;  // a virtual clock ticks in nanoseconds
  if (env.state.real_clocks) {
    struct timespec ts;
    if (clock_getres(host, &ts) != 0) return from_errno(errno);
    ns = to_ns(ts);
  }
  return env.memory.store(resolution, ns) ? Errno::Success : Errno::Fault;
}

Errno clock_time_get(Env& env, u32 clock, u64 /*precision*/, u32 time) {
  uint64_t now;
  WASI_TRY(clock_now(env.state, clock, now));
  return env.memory.store(time, now) ? Errno::Success : Errno::Fault;
}

Errno random_get(Env& env, u32 buf, u32 len) {
  auto out = env.memory.bytes(buf, len);
  if (!out) return Errno::Fault;
  if (env.state.real_random) {
    size_t done = 0;
    while (done < out->size()) {
      const ssize_t n = getrandom(out->data() + done, out->size() - done, 0);
      if (n < 0 && errno != EINTR) return from_errno(errno);
      if (n > 0) done += static_cast<size_t>(n);
    }
    return Errno::Success;
  }
  for (size_t i = 0; i < out->size(); i += 8) {
    const uint64_t r = next_random(env.state.rng);
    std::memcpy(out->data() + i, &r, std::min<size_t>(8, out->size() - i));
  }
  return Errno::Success;
}

Errno sched_yield(Env&) {
  ::sched_yield();
  return Errno::Success;
}

Errno proc_raise(Env&, u32) { return Errno::NotSup; }

// The longest a blocked poll_oneoff waits before checking whether its call must stop.
constexpr uint64_t kWaitSlice = 5'000'000;  // ns

Errno poll_oneoff(Env& env, u32 in, u32 out, u32 nsubscriptions, u32 nevents) {
  if (nsubscriptions == 0) return Errno::Inval;
  if (!env.memory.contains(in, uint64_t{nsubscriptions} * layout::kSubscriptionSize) ||
      !env.memory.contains(out, uint64_t{nsubscriptions} * layout::kEventSize)) {
    return Errno::Fault;
  }
  std::vector<Subscription> subs(nsubscriptions);
  std::vector<Event> ready;
  std::vector<struct pollfd> host_polls;
  std::vector<size_t> host_poll_sub;
  for (uint32_t i = 0; i < nsubscriptions; ++i) {
    const uint64_t at = in + uint64_t{i} * layout::kSubscriptionSize;
    Subscription& s = subs[i];
    s = {};
    env.memory.load(at, s.userdata);
    env.memory.load(at + 8, s.type);
    if (s.type == eventtype::kClock) {
      uint64_t timeout = 0;
      uint16_t flags = 0;
      env.memory.load(at + 16, s.clock);
      env.memory.load(at + 24, timeout);
      env.memory.load(at + 40, flags);
      uint64_t now;
      if (Errno e = clock_now(env.state, s.clock, now); e != Errno::Success) {
        ready.push_back({s.userdata, e, s.type, 0, 0});
        continue;
      }
      s.deadline_ns = (flags & kSubclockAbstime) ? timeout
                      : timeout > std::numeric_limits<uint64_t>::max() - now
                          ? std::numeric_limits<uint64_t>::max()
                          : now + timeout;
    } else if (s.type == eventtype::kFdRead || s.type == eventtype::kFdWrite) {
      env.memory.load(at + 16, s.fd);
      Descriptor* d;
      if (Errno e = lookup(env, s.fd, rights::kPollFdReadwrite, d); e != Errno::Success) {
        ready.push_back({s.userdata, e, s.type, 0, 0});
        continue;
      }
      const bool pollable =
          d->kind == Descriptor::Kind::Stream || d->kind == Descriptor::Kind::Socket;
      if (!pollable) {  // files and memory streams are always ready
        uint64_t nbytes = 0;
        if (d->kind == Descriptor::Kind::Bytes) nbytes = d->bytes->size() - d->position;
        ready.push_back({s.userdata, Errno::Success, s.type, nbytes, 0});
        continue;
      }
      host_polls.push_back(
          {d->fd.get(), static_cast<short>(s.type == eventtype::kFdRead ? POLLIN : POLLOUT), 0});
      host_poll_sub.push_back(i);
    } else {
      return Errno::Inval;
    }
  }

  // How long to wait: not at all if something is ready, else until the first deadline.
  uint64_t wait_ns = std::numeric_limits<uint64_t>::max();
  const Subscription* first_clock = nullptr;
  for (const Subscription& s : subs) {
    if (s.type != eventtype::kClock) continue;
    uint64_t now = 0;
    clock_now(env.state, s.clock, now);
    const uint64_t left = s.deadline_ns > now ? s.deadline_ns - now : 0;
    if (!first_clock || left < wait_ns) {
      wait_ns = left;
      first_clock = &s;
    }
  }
  // A virtual clock never makes the guest wait: its time jumps to the deadline instead.
  const bool virtual_wait = !env.state.real_clocks && first_clock;
  const bool wait = ready.empty() && !virtual_wait;
  if (!host_polls.empty() || (wait && first_clock)) {
    struct timespec timeout {};
    if (wait && wait_ns != std::numeric_limits<uint64_t>::max()) {
      timeout = to_timespec(wait_ns);
    }
    const bool forever = wait && !first_clock;
    // Waits in slices, so that a timeout or interrupt of the call ends the wait promptly.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout.tv_sec) +
                       std::chrono::nanoseconds(timeout.tv_nsec);
    int n;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      auto slice = std::chrono::nanoseconds(kWaitSlice);
      if (!forever) slice = std::min(slice, std::max(until - now, std::chrono::nanoseconds(0)));
      const struct timespec step = to_timespec(static_cast<uint64_t>(slice.count()));
      n = ppoll(host_polls.data(), host_polls.size(), &step, nullptr);
      if (n < 0 && errno != EINTR) return from_errno(errno);
      if (n > 0 || (!forever && std::chrono::steady_clock::now() >= until)) break;
      if (Status s = env.caller.check_interrupt(); !s) {
        env.stop = std::move(s).error();
        return Errno::Intr;
      }
    }
    if (n < 0) n = 0;
    for (size_t k = 0; k < host_polls.size(); ++k) {
      const short revents = host_polls[k].revents;
      if (!revents) continue;
      const Subscription& s = subs[host_poll_sub[k]];
      const Errno error = (revents & POLLNVAL) ? Errno::BadF : Errno::Success;
      const uint16_t flags = (revents & POLLHUP) ? kEventHangup : 0;
      ready.push_back({s.userdata, error, s.type, 0, flags});
    }
  }
  if (ready.empty() && first_clock) {
    if (!env.state.real_clocks) {
      env.state.virtual_ns = std::max(env.state.virtual_ns, first_clock->deadline_ns);
    }
    for (const Subscription& s : subs) {
      if (s.type != eventtype::kClock) continue;
      uint64_t now = 0;
      clock_now(env.state, s.clock, now);
      if (now >= s.deadline_ns || &s == first_clock) {
        ready.push_back({s.userdata, Errno::Success, s.type, 0, 0});
      }
    }
  }
  for (size_t k = 0; k < ready.size(); ++k) {
    store_event(env.memory, out + k * uint64_t{layout::kEventSize}, ready[k]);
  }
  return env.memory.store(nevents, static_cast<uint32_t>(ready.size())) ? Errno::Success
                                                                        : Errno::Fault;
}

Errno sock_accept(Env& env, u32 fd, u32 flags, u32 opened) {
  Descriptor* d;
  WASI_TRY(socket_descriptor(env, fd, rights::kSockAccept, d));
  if (flags & ~uint32_t{fdflags::kNonblock}) return Errno::Inval;
  const int host = accept4(d->fd.get(), nullptr, nullptr,
                           SOCK_CLOEXEC | ((flags & fdflags::kNonblock) ? SOCK_NONBLOCK : 0));
  if (host < 0) return from_errno(errno);
  Descriptor accepted;
  accepted.kind = Descriptor::Kind::Socket;
  accepted.type = FileType::SocketStream;
  accepted.fd.reset(host);
  accepted.rights_base = rights::kSocket & ~rights::kSockAccept;
  const uint32_t number = env.state.insert(std::move(accepted));
  if (!env.memory.store(opened, number)) {
    env.state.fds[number].reset();
    return Errno::Fault;
  }
  return Errno::Success;
}

Errno sock_recv(Env& env, u32 fd, u32 iovs, u32 iovs_len, u32 flags, u32 nread, u32 oflags) {
  Descriptor* d;
  WASI_TRY(socket_descriptor(env, fd, rights::kFdRead, d));
  if (flags & ~uint32_t{kRiflagRecvPeek | kRiflagRecvWaitall}) return Errno::Inval;
  std::vector<struct iovec> list;
  WASI_TRY(read_iovecs(env.memory, iovs, iovs_len, list));
  struct msghdr msg {};
  msg.msg_iov = list.data();
  msg.msg_iovlen = list.size();
  const int host_flags =
      ((flags & kRiflagRecvPeek) ? MSG_PEEK : 0) | ((flags & kRiflagRecvWaitall) ? MSG_WAITALL : 0);
  const ssize_t n = recvmsg(d->fd.get(), &msg, host_flags);
  if (n < 0) return from_errno(errno);
  const uint16_t out_flags = (msg.msg_flags & MSG_TRUNC) ? kRoflagDataTruncated : 0;
  if (!env.memory.store(nread, static_cast<uint32_t>(n)) || !env.memory.store(oflags, out_flags)) {
    return Errno::Fault;
  }
  return Errno::Success;
}

Errno sock_send(Env& env, u32 fd, u32 iovs, u32 iovs_len, u32 flags, u32 nwritten) {
  Descriptor* d;
  WASI_TRY(socket_descriptor(env, fd, rights::kFdWrite, d));
  if (flags != 0) return Errno::Inval;
  std::vector<struct iovec> list;
  WASI_TRY(read_iovecs(env.memory, iovs, iovs_len, list));
  struct msghdr msg {};
  msg.msg_iov = list.data();
  msg.msg_iovlen = list.size();
  const ssize_t n = sendmsg(d->fd.get(), &msg, MSG_NOSIGNAL);
  if (n < 0) return from_errno(errno);
  return env.memory.store(nwritten, static_cast<uint32_t>(n)) ? Errno::Success : Errno::Fault;
}

Errno sock_shutdown(Env& env, u32 fd, u32 how) {
  Descriptor* d;
  WASI_TRY(socket_descriptor(env, fd, rights::kSockShutdown, d));
  int host_how;
  switch (how) {
    case kSdflagRd:
      host_how = SHUT_RD;
      break;
    case kSdflagWr:
      host_how = SHUT_WR;
      break;
    case kSdflagRd | kSdflagWr:
      host_how = SHUT_RDWR;
      break;
    default:
      return Errno::Inval;
  }
  return shutdown(d->fd.get(), host_how) == 0 ? Errno::Success : from_errno(errno);
}

}  // namespace wasm_sandbox::wasi
