// Child processes: posix_spawn, stderr through a pipe, waiting with pidfds and poll(2).
#include "engine/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

extern char** environ;

namespace wasm_sandbox::engine {
namespace {

constexpr size_t kMaxStderr = 64 << 10;

struct Child {
  size_t index = 0;
  pid_t pid = -1;
  int pidfd = -1;
  int err = -1;  // read end of the child's stderr
  std::string diagnostics;
  bool exited = false;
  int status = 0;
};

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

Result<Child> spawn(const std::vector<std::string>& argv, size_t index) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Error(ErrorKind::Internal, "cannot make a pipe: " + std::string(strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child child;
  child.index = index;
  const int rc = posix_spawn(&child.pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return Error(ErrorKind::Unsupported, "cannot run " + argv[0] + ": " + strerror(rc));
  }
  child.err = pipe_fds[0];
  fcntl(child.err, F_SETFL, O_NONBLOCK);
  child.pidfd = static_cast<int>(syscall(SYS_pidfd_open, child.pid, 0));
  return child;
}

void drain(Child& child) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(child.err, buffer, sizeof buffer);
    if (n <= 0) return;
    const size_t room = kMaxStderr - std::min(kMaxStderr, child.diagnostics.size());
    child.diagnostics.append(buffer, std::min<size_t>(room, static_cast<size_t>(n)));
  }
}

void reap(Child& child, bool kill_first) {
  if (child.exited) return;
  if (kill_first) kill(child.pid, SIGKILL);
  waitpid(child.pid, &child.status, 0);
  child.exited = true;
  drain(child);
  close(child.err);
  if (child.pidfd >= 0) close(child.pidfd);
}

}  // namespace

Result<std::vector<ProcessOutcome>> run_processes(
    const std::vector<std::vector<std::string>>& commands, unsigned parallel,
    std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* cancel) {
  std::vector<ProcessOutcome> outcomes(commands.size());
  std::vector<Child> running;
  size_t next = 0;
  std::optional<Error> failure;
  parallel = std::max(1u, parallel);
  while ((next < commands.size() || !running.empty()) && !failure) {
    while (next < commands.size() && running.size() < parallel) {
      auto child = spawn(commands[next], next);
      ++next;
      if (!child) {
        failure = std::move(child).error();
        break;
      }
      running.push_back(std::move(*child));
    }
    if (failure) break;
    std::vector<pollfd> fds;
    for (const Child& c : running) {
      fds.push_back({c.pidfd, POLLIN, 0});
      fds.push_back({c.err, POLLIN, 0});
    }
    // Wake at least every 10 ms to look at the deadline and the cancel flag.
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      failure = Error(ErrorKind::LimitExceeded, "the C compiler ran out of time");
      break;
    }
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      failure = Error(ErrorKind::Internal, "the compile was cancelled");
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left.count() + 1, 10)));
    for (auto it = running.begin(); it != running.end();) {
      drain(*it);
      int status = 0;
      if (waitpid(it->pid, &status, WNOHANG) == it->pid) {
        it->exited = true;
        it->status = status;
        drain(*it);
        close(it->err);
        if (it->pidfd >= 0) close(it->pidfd);
        ProcessOutcome& out = outcomes[it->index];
        out.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!out.ok) out.error = describe(status);
        out.diagnostics = std::move(it->diagnostics);
        it = running.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Child& c : running) reap(c, true);
  if (failure) return std::move(*failure);
  return outcomes;
}

}  // namespace wasm_sandbox::engine
