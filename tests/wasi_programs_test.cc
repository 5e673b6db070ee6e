// End-to-end WASI tests: real C programs (guests/wasi/*.c) built twice, natively
// (guests/native/NAME) and to wasm32-wasi (guests/NAME.wasm). Each test writes the same input
// tree into two fresh directories, runs the native build in one and `wasm-sandbox run` with the
// other mapped to /data, and expects the same stdout, the same exit code and, afterwards, the
// same files. The native build is the oracle: these tests check our WASI and `run`, not the
// programs. stderr is only required to be non-empty on failure, since it names host paths and
// strerror texts differ between glibc and wasi-libc.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace wasm_sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using testing::guest;

constexpr std::string_view kGuestRoot = "/data";

using testing::read_file;
using testing::write_file;

struct Outcome {
  int exit_code = -1;  // 128 + signal number if the process was killed
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is a path) with stdin from `stdin_path` and stdout/stderr captured through
// files in `scratch`: no pipes, so a program that writes a lot cannot block.
Outcome run_process(const std::vector<std::string>& argv, const std::string& stdin_path,
                    const fs::path& scratch) {
  const fs::path out_path = scratch / "stdout", err_path = scratch / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  Outcome outcome;
  pid_t pid;
  const int spawn_error =
      posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(spawn_error);
    return outcome;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.out = read_file(out_path);
  outcome.err = read_file(err_path);
  return outcome;
}

struct Runs {
  std::string command;  // as the guest sees it, for failure messages
  Outcome native;
  Outcome wasm;
};

// Two copies of one input tree: the native build runs on one, the other is mapped to /data for
// the wasm build. Both live in a fresh directory that is removed afterwards.
class TwinTrees {
 public:
  // Creates the two roots and calls populate(root) on each.
  explicit TwinTrees(const std::function<void(const fs::path&)>& populate) {
    std::string base = ::testing::TempDir() + "wasi_programs_XXXXXX";
    if (!mkdtemp(base.data())) ADD_FAILURE() << "mkdtemp " << base << ": " << strerror(errno);
    base_ = base;
    fs::create_directory(scratch());
    fs::create_directory(native_root());
    fs::create_directory(wasm_root());
    populate(native_root());
    populate(wasm_root());
  }
  ~TwinTrees() {
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }
  TwinTrees(const TwinTrees&) = delete;
  TwinTrees& operator=(const TwinTrees&) = delete;

  fs::path native_root() const { return base_ / "native"; }
  fs::path wasm_root() const { return base_ / "wasm"; }

  // Runs guest `program` both ways. `args` and `stdin_file` name files as the guest sees them,
  // under /data; the native run gets the same paths under native_root(), and its stdout has
  // native_root() turned back into /data so that the two outputs compare. Without `stdin_file`
  // both read an empty stdin.
  Runs run(const std::string& program, const std::vector<std::string>& args,
           const std::string& stdin_file = "") const {
    Runs runs;
    runs.command = program;
    for (const std::string& a : args) runs.command += " " + a;
    if (!stdin_file.empty()) runs.command += " < " + stdin_file;

    std::vector<std::string> native_argv = {guest("native/" + program)};
    for (const std::string& a : args) native_argv.push_back(host_path(native_root(), a));
    runs.native = run_process(
        native_argv, stdin_file.empty() ? "/dev/null" : host_path(native_root(), stdin_file),
        scratch());
    runs.native.out = to_guest_paths(runs.native.out);

    std::vector<std::string> wasm_argv = {CLI_PATH, "run", "--dir",
                                          wasm_root().string() + "::" + std::string(kGuestRoot)};
    if (!stdin_file.empty()) {
      wasm_argv.push_back("--stdin");
      wasm_argv.push_back(host_path(wasm_root(), stdin_file));
    }
    wasm_argv.push_back(guest(program + ".wasm"));
    wasm_argv.push_back("--");
    wasm_argv.insert(wasm_argv.end(), args.begin(), args.end());
    runs.wasm = run_process(wasm_argv, "/dev/null", scratch());
    return runs;
  }

 private:
  fs::path scratch() const { return base_ / "io"; }

  // "/data/x" -> root/x; any other argument is passed on unchanged.
  static std::string host_path(const fs::path& root, const std::string& arg) {
    if (arg == kGuestRoot) return root.string();
    if (arg.starts_with(std::string(kGuestRoot) + "/"))
      return root.string() + arg.substr(kGuestRoot.size());
    return arg;
  }

  std::string to_guest_paths(std::string text) const {
    const std::string root = native_root().string();
    for (size_t at = 0; (at = text.find(root, at)) != std::string::npos; at += kGuestRoot.size()) {
      text.replace(at, root.size(), kGuestRoot);
    }
    return text;
  }

  fs::path base_;
};

// Reports where two long texts first differ instead of printing both whole.
void expect_same_text(const std::string& native, const std::string& wasm, const std::string& what) {
  if (native == wasm) return;
  size_t at = 0;
  while (at < native.size() && at < wasm.size() && native[at] == wasm[at]) at++;
  const size_t line_start = native.rfind('\n', at == 0 ? 0 : at - 1);
  const size_t from = line_start == std::string::npos || at == 0 ? 0 : line_start + 1;
  const auto excerpt = [from](const std::string& s) { return s.substr(from, 160); };
  ADD_FAILURE() << what << " differs: native " << native.size() << " bytes, wasm " << wasm.size()
                << " bytes; first difference at byte " << at << ", in the line starting\n"
                << "  native: " << ::testing::PrintToString(excerpt(native)) << "\n"
                << "  wasm:   " << ::testing::PrintToString(excerpt(wasm));
}

// The wasm build behaved as the native one, which itself exited with `expected_exit`.
void expect_same(const Runs& runs, int expected_exit) {
  SCOPED_TRACE(runs.command);
  EXPECT_EQ(runs.native.exit_code, expected_exit) << "native stderr: " << runs.native.err;
  EXPECT_EQ(runs.wasm.exit_code, runs.native.exit_code) << "wasm stderr: " << runs.wasm.err;
  expect_same_text(runs.native.out, runs.wasm.out, "stdout");
  if (expected_exit != 0) {
    EXPECT_FALSE(runs.native.err.empty());
    EXPECT_FALSE(runs.wasm.err.empty());
  }
}

// Every entry under root: "d", "f" + contents, "l" + target, or "?".
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = fs::relative(e.path(), root).string();
    if (e.is_symlink())
      entries[rel] = "l" + fs::read_symlink(e.path()).string();
    else if (e.is_directory())
      entries[rel] = "d";
    else if (e.is_regular_file())
      entries[rel] = "f" + read_file(e.path());
    else
      entries[rel] = "?";
  }
  return entries;
}

// Both trees hold the same names, types, contents and link targets.
void expect_same_trees(const TwinTrees& trees) {
  const auto native = snapshot(trees.native_root()), wasm = snapshot(trees.wasm_root());
  for (const auto& [path, entry] : native) {
    auto it = wasm.find(path);
    if (it == wasm.end())
      ADD_FAILURE() << path << ": left by the native run, missing after the wasm run";
    else
      expect_same_text(entry, it->second, "file " + path + " (type letter, then contents)");
  }
  for (const auto& [path, entry] : wasm) {
    if (!native.contains(path)) ADD_FAILURE() << path << ": left by the wasm run only";
  }
}

// A deterministic byte soup with some newlines and spaces, longer than a 64 KiB read.
std::string binary_bytes(size_t n) {
  std::string bytes(n, '\0');
  uint64_t x = 1;
  for (char& c : bytes) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    c = static_cast<char>(x >> 56);
  }
  return bytes;
}

// The files the text programs read: the awkward cases.
void text_inputs(const fs::path& root) {
  write_file(root / "empty", "");
  write_file(root / "no_newline", "the last line has no newline");
  write_file(root / "basic", "one two\nthree\n");
  std::string words;
  for (int i = 0; i < 20000; i++) words += "word" + std::to_string(i % 7) + " ";
  write_file(root / "long_lines", std::string(100000, 'x') + "\n" + words + "\nshort\n");
  write_file(root / "non_ascii",
             "caf\xc3\xa9 na\xc3\xafve\n\xff\xfe\x80 raw bytes\n\t\v\f\r\n nul\0inside\r\n"
             "\xc2\xa0nbsp \xe2\x80\x83"
             "emspace\n"s);
  write_file(root / "binary", binary_bytes(200001));
  write_file(root / "nine", "123456789");
}

const std::vector<std::string> kTextFiles = {"/data/empty",      "/data/no_newline", "/data/basic",
                                             "/data/long_lines", "/data/non_ascii",  "/data/binary",
                                             "/data/nine"};

// --- wordcount ---------------------------------------------------------------------------------

TEST(WasiProgramsTest, WordcountCountsAwkwardFiles) {
  TwinTrees trees(text_inputs);
  expect_same(trees.run("wordcount", kTextFiles), 0);
  expect_same(trees.run("wordcount", {"/data/basic"}), 0);  // no total line
  expect_same_trees(trees);
}

TEST(WasiProgramsTest, WordcountReadsStdin) {
  TwinTrees trees(text_inputs);
  expect_same(trees.run("wordcount", {}, "/data/non_ascii"), 0);
  expect_same(trees.run("wordcount", {"-", "/data/nine"}, "/data/long_lines"), 0);
}

TEST(WasiProgramsTest, WordcountReportsUnreadableFilesAndGoesOn) {
  TwinTrees trees(text_inputs);
  expect_same(trees.run("wordcount", {"/data/basic", "/data/missing", "/data/nine"}), 1);
  expect_same(trees.run("wordcount", {"/data/basic", "/data"}), 1);  // a directory
}

// --- sortfile ----------------------------------------------------------------------------------

void sort_inputs(const fs::path& root) {
  text_inputs(root);
  write_file(root / "mixed",
             "banana\napple\n\ncherry\napple\n10\n9\n-3\n  2.50\n2.5\n-0\n0\nabc\n1e3\nZeta\n"
             "\xc3\xa9"
             "clair\n\xffhigh\n007\n-10.5\n-10.25\n"
             "99999999999999999999999\n99999999999999999999998\nlast line, no newline");
  write_file(root / "small", "c\nb\na");
}

TEST(WasiProgramsTest, SortfileOptions) {
  TwinTrees trees(sort_inputs);
  const std::vector<std::vector<std::string>> option_sets = {
      {}, {"-r"}, {"-n"}, {"-u"}, {"-n", "-u"}, {"-r", "-n"}, {"-r", "-u"}, {"-rnu"}};
  for (std::vector<std::string> args : option_sets) {
    args.push_back("/data/mixed");
    expect_same(trees.run("sortfile", args), 0);
  }
}

TEST(WasiProgramsTest, SortfileAwkwardFiles) {
  TwinTrees trees(sort_inputs);
  for (const std::string& file : kTextFiles) expect_same(trees.run("sortfile", {file}), 0);
  expect_same_trees(trees);
}

TEST(WasiProgramsTest, SortfileWritesOutputThroughTemporaryAndRename) {
  TwinTrees trees([](const fs::path& root) {
    sort_inputs(root);
    write_file(root / "out", "old contents\n");
    write_file(root / "out.tmp", "taken: sortfile must pick out.tmp1\n");
  });
  expect_same(trees.run("sortfile", {"-o", "/data/out", "/data/small"}), 0);
  EXPECT_EQ(read_file(trees.native_root() / "out"), "a\nb\nc\n");
  expect_same(trees.run("sortfile", {"-n", "-r", "-o", "/data/new", "/data/mixed"}), 0);
  expect_same(trees.run("sortfile", {"-o", "/data/mixed", "/data/mixed"}), 0);  // in place
  expect_same(trees.run("sortfile", {"-u", "-o", "/data/nested/dir/out", "/data/long_lines"}), 1);
  expect_same_trees(trees);
  EXPECT_TRUE(fs::exists(trees.wasm_root() / "new"));
  EXPECT_FALSE(fs::exists(trees.wasm_root() / "out.tmp1"));
}

TEST(WasiProgramsTest, SortfileErrors) {
  TwinTrees trees(sort_inputs);
  expect_same(trees.run("sortfile", {"/data/missing"}), 1);
  expect_same(trees.run("sortfile", {"/data"}), 1);  // a directory
  expect_same(trees.run("sortfile", {}), 2);
  expect_same(trees.run("sortfile", {"-x", "/data/small"}), 2);
  expect_same_trees(trees);
}

// --- kvdb --------------------------------------------------------------------------------------

struct Step {
  std::vector<std::string> args;  // after DBFILE
  int expected_exit;
};

// Runs each step against /data/db both ways, comparing output and exit code as it goes.
void run_kvdb(const TwinTrees& trees, const std::vector<Step>& steps) {
  for (const Step& step : steps) {
    std::vector<std::string> args = {"/data/db"};
    args.insert(args.end(), step.args.begin(), step.args.end());
    expect_same(trees.run("kvdb", args), step.expected_exit);
  }
}

TEST(WasiProgramsTest, KvdbSession) {
  TwinTrees trees([](const fs::path&) {});
  run_kvdb(trees, {
                      {{"list"}, 2},  // no database yet
                      {{"get", "a"}, 2},
                      {{"put", "a", "1"}, 0},
                      {{"put", "b", "2"}, 0},
                      {{"put", "key with spaces", "value = with = equals"}, 0},
                      {{"put", "\xc3\xa9t\xc3\xa9", "\xe2\x98\x80 sunny"}, 0},
                      {{"put", "empty", ""}, 0},
                      {{"put", "a", "3"}, 0},
                      {{"get", "a"}, 0},
                      {{"get", "empty"}, 0},
                      {{"get", "nope"}, 1},
                      {{"del", "b"}, 0},
                      {{"del", "b"}, 1},
                      {{"get", "b"}, 1},
                      {{"list"}, 0},
                  });
  expect_same_trees(trees);  // the logs, byte for byte
  run_kvdb(trees, {
                      {{"compact"}, 0},
                      {{"list"}, 0},
                      {{"get", "key with spaces"}, 0},
                      {{"put", "z", "after compaction"}, 0},
                      {{"list"}, 0},
                  });
  expect_same_trees(trees);
  EXPECT_EQ(read_file(trees.native_root() / "db"),
            "+a=3\n+empty=\n+key with spaces=value = with = equals\n"
            "+\xc3\xa9t\xc3\xa9=\xe2\x98\x80 sunny\n+z=after compaction\n");
  EXPECT_FALSE(fs::exists(trees.wasm_root() / "db.tmp"));
}

TEST(WasiProgramsTest, KvdbRejectsBadKeysAndUsage) {
  TwinTrees trees([](const fs::path& root) { write_file(root / "db", "+k=v\n"); });
  run_kvdb(trees, {
                      {{"put", "a=b", "x"}, 2},
                      {{"put", "a\nb", "x"}, 2},
                      {{"put", "", "x"}, 2},
                      {{"put", "k", "two\nlines"}, 2},
                      {{"get", "a=b"}, 2},
                      {{"frobnicate"}, 2},
                      {{"put", "k"}, 2},
                      {{"list"}, 0},
                  });
  expect_same_trees(trees);  // nothing was written
}

TEST(WasiProgramsTest, KvdbCutsOffATornRecordAndReportsCorruption) {
  TwinTrees trees([](const fs::path& root) {
    write_file(root / "db", "+x=1\n+y=2\n+torn=by a cra");
    write_file(root / "corrupt", "+x=1\ngarbage\n");
  });
  run_kvdb(trees, {
                      {{"list"}, 0},
                      {{"put", "z", "26"}, 0},
                      {{"list"}, 0},
                  });
  expect_same_trees(trees);
  EXPECT_EQ(read_file(trees.wasm_root() / "db"), "+x=1\n+y=2\n+z=26\n");
  expect_same(trees.run("kvdb", {"/data/corrupt", "list"}), 2);
}

// Arguments are byte strings in WASI: a value that is not UTF-8 arrives unchanged.
TEST(WasiProgramsTest, KvdbKeepsNonUtf8ArgumentsExactly) {
  TwinTrees trees([](const fs::path&) {});
  run_kvdb(trees, {
                      {{"put", "raw\xff", "\xfe\x80 bytes"}, 0},
                      {{"get", "raw\xff"}, 0},
                  });
  expect_same_trees(trees);
}

// --- dirwalk -----------------------------------------------------------------------------------

void tree_inputs(const fs::path& root) {
  write_file(root / "a/b/c/deep.txt", "deep");
  write_file(root / "a/empty", "");
  write_file(root / "z.txt", "12345");
  write_file(root / "B/upper", "sorts before a");
  write_file(root / "\xc3\xa9t\xc3\xa9", "utf-8 name");
  write_file(root / "with space", "sp");
  write_file(root / ".hidden", ".");
  write_file(root / "big", binary_bytes(70000));
  fs::create_directories(root / "empty_dir");
  fs::create_symlink("z.txt", root / "link");
  fs::create_directory_symlink("a", root / "dirlink");  // must not be walked into
  fs::create_symlink("nowhere", root / "broken");
  fs::create_symlink("../../z.txt", root / "a/b/up");
  fs::create_symlink("../../outside", root / "escapes");  // lstat must not resolve it
  fs::create_symlink("/etc/passwd", root / "absolute");
  ASSERT_EQ(mkfifo((root / "fifo").c_str(), 0644), 0);
}

TEST(WasiProgramsTest, DirwalkListsSortedWithoutFollowingSymlinks) {
  TwinTrees trees(tree_inputs);
  const Runs runs = trees.run("dirwalk", {"/data"});
  expect_same(runs, 0);
  EXPECT_NE(runs.native.out.find("l - dirlink -> a\nd - empty_dir\n"), std::string::npos)
      << runs.native.out;
  expect_same(trees.run("dirwalk", {"/data/a"}), 0);
  expect_same(trees.run("dirwalk", {"/data/"}), 0);
  expect_same(trees.run("dirwalk", {"/data/empty_dir"}), 0);
  expect_same_trees(trees);
}

// Paths may be byte strings that are not UTF-8, as on Linux.
TEST(WasiProgramsTest, DirwalkListsNonUtf8Names) {
  TwinTrees trees([](const fs::path& root) { write_file(root / "raw\xff", "x"); });
  expect_same(trees.run("dirwalk", {"/data"}), 0);
}

// Only the last component of the root is followed if it is a symlink (opendir follows links).
TEST(WasiProgramsTest, DirwalkFollowsASymlinkedRoot) {
  TwinTrees trees(tree_inputs);
  expect_same(trees.run("dirwalk", {"/data/dirlink"}), 0);
}

TEST(WasiProgramsTest, DirwalkErrors) {
  TwinTrees trees(tree_inputs);
  expect_same(trees.run("dirwalk", {"/data/missing"}), 1);
  expect_same(trees.run("dirwalk", {"/data/z.txt"}), 1);  // not a directory
  expect_same(trees.run("dirwalk", {"/data/broken"}), 1);
  expect_same(trees.run("dirwalk", {}), 2);
}

// --- checksum ----------------------------------------------------------------------------------

TEST(WasiProgramsTest, ChecksumMatchesNativeAndKnownValues) {
  TwinTrees trees(text_inputs);
  const Runs runs = trees.run("checksum", kTextFiles);
  expect_same(runs, 0);
  // The standard check values of CRC-32 and FNV-1a 64 for "123456789", and the empty input.
  EXPECT_NE(runs.native.out.find("cbf43926 06d5573923c6cdfc 9 /data/nine\n"), std::string::npos)
      << runs.native.out;
  EXPECT_NE(runs.native.out.find("00000000 cbf29ce484222325 0 /data/empty\n"), std::string::npos);
}

TEST(WasiProgramsTest, ChecksumReadsStdin) {
  TwinTrees trees(text_inputs);
  expect_same(trees.run("checksum", {"-"}, "/data/binary"), 0);
  expect_same(trees.run("checksum", {}, "/data/nine"), 0);
  expect_same(trees.run("checksum", {"/data/nine", "-"}, "/data/long_lines"), 0);
}

TEST(WasiProgramsTest, ChecksumReportsUnreadableFilesAndGoesOn) {
  TwinTrees trees(text_inputs);
  expect_same(trees.run("checksum", {"/data/missing", "/data/nine"}), 1);
  expect_same(trees.run("checksum", {"/data", "/data/empty"}), 1);  // a directory
}

// --- the sandbox boundary ----------------------------------------------------------------------

// Here the builds must differ: natively the paths reach the file next to the tree, in the
// sandbox neither a symlink nor ".." may leave /data.
TEST(WasiProgramsTest, NeitherSymlinksNorDotDotLeaveTheMappedDirectory) {
  TwinTrees trees([](const fs::path& root) {
    write_file(root.parent_path() / "secret", "outside the sandbox\n");
    fs::create_symlink("../secret", root / "relative_escape");
    fs::create_symlink((root.parent_path() / "secret").string(), root / "absolute_escape");
  });
  const struct {
    std::string path;
    int native_exit;
  } cases[] = {
      {"/data/relative_escape", 0},
      {"/data/absolute_escape", 0},
      {"/data/../secret", 0},
      {"/data/x/../../secret", 1},  // natively too: there is no x
  };
  for (const auto& c : cases) {
    const Runs runs = trees.run("wordcount", {c.path});
    SCOPED_TRACE(runs.command);
    EXPECT_EQ(runs.native.exit_code, c.native_exit) << runs.native.err;
    EXPECT_EQ(runs.wasm.exit_code, 1);
    EXPECT_EQ(runs.wasm.out, "");
    EXPECT_FALSE(runs.wasm.err.empty());
  }
}

}  // namespace
}  // namespace wasm_sandbox
