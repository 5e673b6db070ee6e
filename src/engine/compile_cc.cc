// The optimized tier: the C compiler as a subprocess, writing a shared object to a temporary
// directory, read back into memory (the loader and the artifact cache take bytes).
#include "engine/compile_cc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "engine/subprocess.h"
#include "engine/temp_dir.h"

namespace wasm_sandbox::engine {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> find_in_path(std::string_view program) {
  if (program.find('/') != std::string_view::npos) {
    if (access(std::string(program).c_str(), X_OK) == 0) return fs::path(program);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// The compiler's first line that reports an error, else its first line.
std::string first_error(const std::string& diagnostics) {
  std::string_view text = diagnostics;
  std::string_view first;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (first.empty()) first = line;
    if (line.find("error") != std::string_view::npos) return std::string(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return std::string(first);
}

bool write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  return static_cast<bool>(out);
}

}  // namespace

std::string CCompiler::describe() const {
  std::string out = fs::path(path).filename().string();
  for (const std::string& flag : flags) out += " " + flag;
  return out;
}

Result<CCompiler> find_c_compiler(std::string_view requested, std::vector<std::string> flags) {
  std::vector<std::string> candidates;
  if (!requested.empty()) {
    candidates.emplace_back(requested);
  } else {
    if (const char* cc = std::getenv("CC"); cc && *cc) candidates.emplace_back(cc);
    candidates.emplace_back("gcc");
    candidates.emplace_back("clang");
  }
  for (const std::string& candidate : candidates) {
    auto found = find_in_path(candidate);
    if (!found) continue;
    std::error_code ec;
    const fs::path real = fs::canonical(*found, ec);
    struct stat st;
    if (ec || stat(real.c_str(), &st) != 0) continue;
    CCompiler compiler;
    compiler.path = real.string();
    compiler.identity = compiler.path + ":" + std::to_string(st.st_size) + ":" +
                        std::to_string(st.st_mtim.tv_sec) + "." +
                        std::to_string(st.st_mtim.tv_nsec);
    compiler.flags = std::move(flags);
    return compiler;
  }
  std::string looked;
  for (const std::string& c : candidates) looked += (looked.empty() ? "" : ", ") + c;
  return Error(ErrorKind::NotFound,
               "no C compiler for the optimized tier (looked for " + looked + ")");
}

Result<std::vector<uint8_t>> compile_shared_object(const CCompiler& compiler,
                                                   const std::vector<std::string>& units,
                                                   std::string_view name, unsigned jobs,
                                                   std::chrono::steady_clock::time_point deadline,
                                                   const std::atomic<bool>* cancel) {
  const std::string module(name);
  TempDir dir("wasm-sandbox-");
  if (dir.path().empty()) {
    return Error(ErrorKind::Io, module + ": cannot make a temporary directory for the compiler");
  }
  // Flags the generated code needs, after the configurable ones: position-independent code
  // in a shared object that exports only ws_module_glue; calls stay calls (a recursion that
  // became a loop would never exhaust the stack, so a runaway one would run forever instead
  // of trapping); floating point keeps signaling NaNs in mind (x * 1.0 must still quiet a
  // NaN, as wasm requires, not fold to x); no warnings about generated C.
  std::vector<std::string> base{compiler.path};
  base.insert(base.end(), compiler.flags.begin(), compiler.flags.end());
  for (const char* flag : {"-std=gnu11", "-fPIC", "-fvisibility=hidden",
                           "-fno-optimize-sibling-calls", "-fsignaling-nans", "-w"}) {
    base.emplace_back(flag);
  }
  const fs::path so = dir.path() / "module.so";
  std::vector<std::vector<std::string>> compiles;
  std::vector<std::string> link = base;
  link.insert(link.end(), {"-shared", "-o", so.string()});
  for (size_t i = 0; i < units.size(); ++i) {
    const fs::path c = dir.path() / ("unit" + std::to_string(i) + ".c");
    if (!write_file(c, units[i])) {
      return Error(ErrorKind::Io, module + ": cannot write " + c.string());
    }
    if (units.size() == 1) {
      link.push_back(c.string());
    } else {
      const fs::path o = dir.path() / ("unit" + std::to_string(i) + ".o");
      std::vector<std::string> command = base;
      command.insert(command.end(), {"-c", "-o", o.string(), c.string()});
      compiles.push_back(std::move(command));
      link.push_back(o.string());
    }
  }
  link.push_back("-lm");
  auto fail = [&](const Error& error) {
    std::string message = module + ": " + compiler.describe() + ": " + error.message();
    if (error.kind() == ErrorKind::LimitExceeded) message += " (Limits::compile_time)";
    return Error(error.kind(), std::move(message));
  };
  auto check = [&](const std::vector<ProcessOutcome>& outcomes) -> std::optional<Error> {
    for (const ProcessOutcome& outcome : outcomes) {
      if (outcome.ok) continue;
      return Error(ErrorKind::Internal, module + ": " + compiler.describe() + " failed (" +
                                            outcome.error +
                                            "): " + first_error(outcome.diagnostics));
    }
    return std::nullopt;
  };
  if (!compiles.empty()) {
    auto outcomes = run_processes(compiles, jobs, deadline, cancel);
    if (!outcomes) return fail(outcomes.error());
    if (auto error = check(*outcomes)) return std::move(*error);
  }
  auto linked = run_processes({link}, 1, deadline, cancel);
  if (!linked) return fail(linked.error());
  if (auto error = check(*linked)) return std::move(*error);
  std::ifstream in(so, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (bytes.empty()) return Error(ErrorKind::Io, module + ": cannot read the compiled code");
  return bytes;
}

}  // namespace wasm_sandbox::engine
