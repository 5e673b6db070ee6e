// Escape tests: a hostile WASI guest (guests/wasi/escape.c) tries every way out of its preopens
// that we know of (`..`, absolute paths, symlinks the host left and ones it makes itself,
// a race between a check and a use, hard links, writes to a read-only preopen), and each
// attempt must fail with the right errno while the host's file system stays as it was.
//
// Each test builds a fresh tree in a temporary directory,
//   outside/   secret ("OUTSIDE"), link -> secret, dir/: what the guest must never reach
//   data/      preopened read-write as /data; files, subdirectories and host-made symlinks
//   ro/        preopened read-only as /ro
// snapshots all of it (every path with its type, permissions, size, mtime in ns, link count,
// symlink target and a hash of its contents), runs the guest through the library API with the
// attempts it names, expects each output line exactly, and snapshots again: the tree must equal
// the first snapshot with only the changes the successful in-tree operations explain.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

namespace fs = std::filesystem;
using testing::guest;

// What an attempt expects: its name and the rest of its output line ("ok", "ok TEXT", "EROFS").
using Attempts = std::vector<std::pair<std::string, std::string>>;

using testing::read_file;
using testing::write_file;

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

// --- Snapshots ---------------------------------------------------------------------------

// One path of a tree, from lstat(2): symlinks are described, never followed.
struct Node {
  char type = '?';  // d, f, l or ?
  unsigned perms = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t nlink = 0;
  uint64_t ino = 0;      // tells a file from a replacement with the same contents
  std::string target;    // l
  uint64_t hash = 0;     // f: of the contents
  std::string contents;  // f: kept to make failures readable (the files are tiny)

  bool operator==(const Node&) const = default;
};

// Paths relative to the tree's root; "." is the root itself.
using Snapshot = std::map<std::string, Node>;

Node describe(const fs::path& path) {
  struct stat st;
  Node n;
  if (lstat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "lstat " << path << ": " << std::strerror(errno);
    return n;
  }
  n.perms = st.st_mode & 07777;
  n.size = static_cast<uint64_t>(st.st_size);
  n.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  n.nlink = st.st_nlink;
  n.ino = st.st_ino;
  if (S_ISDIR(st.st_mode)) {
    n.type = 'd';
  } else if (S_ISREG(st.st_mode)) {
    n.type = 'f';
    n.contents = read_file(path);
    n.hash = fnv1a(n.contents);
  } else if (S_ISLNK(st.st_mode)) {
    n.type = 'l';
    n.target = fs::read_symlink(path).string();
  }
  return n;
}

// Walks by hand, with lstat: recursive_directory_iterator stats entries and throws on a loop of
// links.
void walk(const fs::path& dir, const std::string& prefix, Snapshot& out) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string rel = prefix + e.path().filename().string();
    const Node node = describe(e.path());
    out[rel] = node;
    if (node.type == 'd') walk(e.path(), rel + "/", out);
  }
}

Snapshot snapshot(const fs::path& root) {
  Snapshot s;
  s["."] = describe(root);
  walk(root, "", s);
  return s;
}

// The tree a test expects after the guest ran: the snapshot from before, edited by the changes
// the guest's successful operations explain. Fields left open (a directory that gained an
// entry changes its mtime and maybe its size; a new entry's mtime is whenever it was made) match
// anything.
class ExpectedTree {
 public:
  explicit ExpectedTree(const Snapshot& before) {
    for (const auto& [path, node] : before) nodes_[path] = {node};
  }

  // `dir` gained or lost entries.
  ExpectedTree& touched(const std::string& dir) {
    at(dir).any_mtime = true;
    at(dir).any_size = true;
    return *this;
  }
  // A symbolic link the guest made (permissions 0777 on Linux).
  ExpectedTree& added_symlink(const std::string& path, const std::string& target) {
    Node n;
    n.type = 'l';
    n.perms = 0777;
    n.size = target.size();
    n.nlink = 1;
    n.target = target;
    nodes_[path] = {n, /*any_mtime=*/true, /*any_size=*/false, /*any_ino=*/true};
    return touched(parent(path));
  }
  // A hard link to the existing `source`: the same inode under another name.
  ExpectedTree& added_hard_link(const std::string& path, const std::string& source) {
    const Pattern same = at(source);
    for (auto& [p, pattern] : nodes_) {
      if (!pattern.any_ino && pattern.node.ino == same.node.ino) pattern.node.nlink++;
    }
    nodes_[path] = at(source);
    return touched(parent(path));
  }
  // Every difference between this and `after`, one per line; empty if none.
  std::string differences(const Snapshot& after) const {
    std::ostringstream out;
    for (const auto& [path, expected] : nodes_) {
      auto it = after.find(path);
      if (it == after.end()) {
        out << "  " << path << ": missing (expected " << show(expected) << ")\n";
        continue;
      }
      const Node& e = expected.node;
      const Node& a = it->second;
      const bool same = e.type == a.type && e.perms == a.perms && e.nlink == a.nlink &&
                        e.target == a.target && e.hash == a.hash &&
                        (expected.any_ino || e.ino == a.ino) &&
                        (expected.any_size || e.size == a.size) &&
                        (expected.any_mtime || e.mtime_ns == a.mtime_ns);
      if (!same) out << "  " << path << ": " << show(expected) << " became " << show({a}) << "\n";
    }
    for (const auto& [path, node] : after) {
      if (!nodes_.contains(path)) out << "  " << path << ": new, " << show({node}) << "\n";
    }
    return out.str();
  }

 private:
  struct Pattern {
    Node node;
    bool any_mtime = false;
    bool any_size = false;
    bool any_ino = false;
  };

  Pattern& at(const std::string& path) {
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
      ADD_FAILURE() << "the expected tree has no " << path;
      return nodes_[path];
    }
    return it->second;
  }
  static std::string parent(const std::string& path) {
    const std::string p = fs::path(path).parent_path().string();
    return p.empty() ? "." : p;
  }
  // "f 644 size 4 mtime 1700000000000000000 nlink 1 \"DATA\"", with * for an open field.
  static std::string show(const Pattern& p) {
    const Node& n = p.node;
    std::ostringstream out;
    out << n.type << " " << std::oct << n.perms << std::dec << " size ";
    if (p.any_size) {
      out << "*";
    } else {
      out << n.size;
    }
    out << " mtime ";
    if (p.any_mtime) {
      out << "*";
    } else {
      out << n.mtime_ns;
    }
    out << " nlink " << n.nlink << " ino ";
    if (p.any_ino) {
      out << "*";
    } else {
      out << n.ino;
    }
    if (n.type == 'l') out << " -> " << n.target;
    if (n.type == 'f') out << " " << ::testing::PrintToString(n.contents);
    return out.str();
  }

  std::map<std::string, Pattern> nodes_;
};

// --- The tree and the guest --------------------------------------------------------------

constexpr char kOutsideSecret[] = "OUTSIDE";

class WasiEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string base = ::testing::TempDir() + "wasi_escape_XXXXXX";
    ASSERT_NE(mkdtemp(base.data()), nullptr) << base << ": " << std::strerror(errno);
    // mkdtemp makes 0700; give the root the same ordinary permissions as everything below.
    fs::permissions(base, fs::perms(0755));
    root_ = fs::canonical(base);
    populate();
    before_ = snapshot(root_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  fs::path outside() const { return root_ / "outside"; }
  fs::path data() const { return root_ / "data"; }
  fs::path ro() const { return root_ / "ro"; }

  // The host-made links are described in escape.c's attempts that use them.
  void populate() {
    for (const char* dir : {"outside/dir", "data/sub/deep", "data/swap", "ro/sub", "ro/emptydir"}) {
      fs::create_directories(root_ / dir);
    }
    write_file(outside() / "secret", kOutsideSecret);
    fs::create_symlink("secret", outside() / "link");
    write_file(data() / "file", "DATA");
    write_file(data() / "sub/subfile", "SUB");
    write_file(data() / "swap/secret", "INSIDE");
    write_file(ro() / "file", "RO");
    write_file(ro() / "sub/inner", "INNER");
    const std::pair<const char*, std::string> links[] = {
        {"abs_link", (outside() / "secret").string()},
        {"rel_link", "../outside/secret"},
        {"absdir_link", outside().string()},
        {"reldir_link", "../outside"},
        {"sub/up_link", "../../outside/secret"},
        {"sub/dot_link", ".."},  // /data itself: inside, but one `..` more is not
        {"in_link", "file"},
        {"dangle_link", "../outside/newfile"},
        {"chain_a", "chain_b"},
        {"chain_b", "sub/chain_c"},
        {"sub/chain_c", "../../outside/secret"},
        {"good_a", "good_b"},
        {"good_b", "sub/../file"},
        {"loop_a", "loop_b"},
        {"loop_b", "loop_a"},
        // What the race swaps with data/swap.
        {"swap_abs", outside().string()},
        {"swap_rel", "../outside"},
    };
    for (const auto& [link, target] : links) fs::create_symlink(target, data() / link);
  }

  // Runs the escape guest with `args`; its stdout, split into lines.
  std::vector<std::string> run(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"escape"};
    argv.insert(argv.end(), args.begin(), args.end());
    WasiConfig config;
    config.args(argv)
        .env("ESCAPE_OUTSIDE", outside().string())
        .preopen(data(), "/data", DirAccess::ReadWrite)
        .preopen(ro(), "/ro", DirAccess::ReadOnly)
        .capture_stdout()
        .capture_stderr();
    auto wasi = Wasi::create(config);
    EXPECT_TRUE(wasi.ok()) << wasi.error().message();
    if (!wasi.ok()) return {};
    auto module = Engine().load_file(guest("escape.wasm"));
    EXPECT_TRUE(module.ok()) << module.error().message();
    if (!module.ok()) return {};
    Imports imports;
    wasi->add_to(imports);
    auto instance = module->instantiate(imports);
    EXPECT_TRUE(instance.ok()) << instance.error().message();
    if (!instance.ok()) return {};
    auto status = wasi->run(*instance);
    EXPECT_TRUE(status.ok()) << status.error().message() << "\nstderr: " << wasi->stderr_text();
    if (status.ok()) {
      EXPECT_EQ(*status, 0) << "stderr: " << wasi->stderr_text();
    }
    const std::string out = wasi->stdout_text();
    EXPECT_EQ(out.find(kOutsideSecret), std::string::npos) << "the guest read the outside secret:\n"
                                                           << out;
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Runs the attempts in order and expects each line.
  void expect_attempts(const Attempts& attempts) {
    std::vector<std::string> names;
    for (const auto& a : attempts) names.push_back(a.first);
    const std::vector<std::string> lines = run(names);
    ASSERT_EQ(lines.size(), attempts.size()) << ::testing::PrintToString(lines);
    for (size_t i = 0; i < attempts.size(); ++i) {
      EXPECT_EQ(lines[i], attempts[i].first + " " + attempts[i].second);
    }
  }

  // The whole tree equals `expected`.
  void expect_tree(const ExpectedTree& expected) {
    const std::string diff = expected.differences(snapshot(root_));
    EXPECT_TRUE(diff.empty()) << "the host tree under " << root_ << " changed:\n" << diff;
  }
  void expect_tree_unchanged() { expect_tree(ExpectedTree(before_)); }

  // A host program that opens data/`link`, following links (and creating the file a dangling
  // one names), stays under data.
  void expect_followed_inside(const std::string& link) {
    fs::path p = data() / link;
    std::error_code ec;
    for (int hops = 0; hops < 40 && fs::is_symlink(p, ec); ++hops) {
      const fs::path target = fs::read_symlink(p, ec);
      // weakly_canonical resolves the links on the way, and only spells out a missing rest.
      p = fs::weakly_canonical(target.is_absolute() ? target : p.parent_path() / target, ec);
    }
    EXPECT_TRUE(p == data() || p.string().starts_with(data().string() + "/"))
        << "a host program that follows data/" << link << " (-> "
        << fs::read_symlink(data() / link, ec).string() << ") reaches " << p;
  }

  fs::path root_;
  Snapshot before_;
};

// --- `..` and absolute paths -------------------------------------------------------------

TEST_F(WasiEscape, DotDotTraversal) {
  expect_attempts({
      {"dotdot-open", "ENOTCAPABLE"},
      {"dotdot-open-raw", "ENOTCAPABLE"},
      {"dotdot-deep-open", "ENOTCAPABLE"},
      {"dotdot-deeper-open", "ENOTCAPABLE"},
      {"dotdot-climb-open", "ENOTCAPABLE"},
      {"dotdot-parent-list", "ENOTCAPABLE"},
      {"dotdot-subfd-open-raw", "ENOTCAPABLE"},
      {"dotdot-stat", "ENOTCAPABLE"},
      {"dotdot-create", "ENOTCAPABLE"},
      {"dotdot-write", "ENOTCAPABLE"},
      {"dotdot-mkdir", "ENOTCAPABLE"},
      {"dotdot-rmdir", "ENOTCAPABLE"},
      {"dotdot-unlink", "ENOTCAPABLE"},
      {"dotdot-rename-out", "ENOTCAPABLE"},
      {"dotdot-rename-in", "ENOTCAPABLE"},
      {"dotdot-link-in", "ENOTCAPABLE"},
      {"dotdot-link-out", "ENOTCAPABLE"},
      {"dotdot-symlink-at", "ENOTCAPABLE"},
      {"dotdot-readlink", "ENOTCAPABLE"},
      {"dotdot-truncate", "ENOTCAPABLE"},
      {"dotdot-utimens", "ENOTCAPABLE"},
      {"dotdot-ro-open-raw", "ENOTCAPABLE"},
      {"dotdot-ro-to-data-raw", "ENOTCAPABLE"},
      // `..` that stays inside is an ordinary path.
      {"dotdot-inside-open", "ok DATA"},
  });
  expect_tree_unchanged();
}

// A path that first names something missing fails there, before any `..` is reached; nothing
// outside is revealed either way.
TEST_F(WasiEscape, MissingFilesInsideAreNotFound) {
  expect_attempts({
      {"data-missing-open", "ENOENT"},
      {"ro-missing", "ENOENT"},
      {"dotdot-missing-open", "ENOENT"},
  });
  expect_tree_unchanged();
}

// wasi-libc refuses an absolute path under no preopen itself (ENOTCAPABLE, without asking the
// host); the *-raw attempts hand absolute paths to the host relative to /data or /ro.
TEST_F(WasiEscape, AbsolutePaths) {
  expect_attempts({
      {"abs-open", "ENOTCAPABLE"},
      {"abs-outside-open", "ENOTCAPABLE"},
      {"abs-host-open", "ENOTCAPABLE"},
      {"abs-open-raw", "ENOTCAPABLE"},
      {"abs-outside-open-raw", "ENOTCAPABLE"},
      {"abs-host-open-raw", "ENOTCAPABLE"},
      {"abs-root-open-raw", "ENOTCAPABLE"},
      {"abs-stat-raw", "ENOTCAPABLE"},
      {"abs-create-raw", "ENOTCAPABLE"},
      {"abs-mkdir-raw", "ENOTCAPABLE"},
      {"abs-unlink-raw", "ENOTCAPABLE"},
      {"abs-rename-in-raw", "ENOTCAPABLE"},
      {"abs-rename-out-raw", "ENOTCAPABLE"},
      {"abs-link-in-raw", "ENOTCAPABLE"},
      {"abs-symlink-at-raw", "ENOTCAPABLE"},
      {"abs-utimens-raw", "ENOTCAPABLE"},
      {"abs-ro-open-raw", "ENOTCAPABLE"},
  });
  expect_tree_unchanged();
}

// --- Symbolic links ----------------------------------------------------------------------

TEST_F(WasiEscape, HostSymlinksLeadingOutAreNotFollowed) {
  expect_attempts({
      {"hostlink-abs-open", "ENOTCAPABLE"},
      {"hostlink-rel-open", "ENOTCAPABLE"},
      {"hostlink-deep-open", "ENOTCAPABLE"},
      {"hostlink-absdir-open", "ENOTCAPABLE"},
      {"hostlink-reldir-open", "ENOTCAPABLE"},
      {"hostlink-reldir-list", "ENOTCAPABLE"},
      {"hostlink-dotlink-out", "ENOTCAPABLE"},
      {"hostlink-stat", "ENOTCAPABLE"},
      {"hostlink-write", "ENOTCAPABLE"},
      {"hostlink-truncate", "ENOTCAPABLE"},
      {"hostlink-create-dangling", "ENOTCAPABLE"},
      {"hostlink-create-through", "ENOTCAPABLE"},
      {"hostlink-mkdir-through", "ENOTCAPABLE"},
      {"hostlink-symlink-through", "ENOTCAPABLE"},
      {"hostlink-unlink-through", "ENOTCAPABLE"},
      {"hostlink-rmdir-through", "ENOTCAPABLE"},
      {"hostlink-rename-through", "ENOTCAPABLE"},
      {"hostlink-rename-from", "ENOTCAPABLE"},
      {"hostlink-utimens", "ENOTCAPABLE"},
      {"hostlink-link-follow-raw", "ENOTCAPABLE"},
      {"hostlink-link-through", "ENOTCAPABLE"},
      // Not following: the final component is a link, which path_open without
      // lookupflags::symlink_follow refuses as POSIX O_NOFOLLOW does.
      {"hostlink-nofollow-raw", "ELOOP"},
  });
  expect_tree_unchanged();
}

TEST_F(WasiEscape, HostSymlinksCanBeReadAndFollowedInside) {
  expect_attempts({
      {"hostlink-lstat", "ok symlink"},
      {"hostlink-readlink", "ok ../outside/secret"},
      {"hostlink-inside-open", "ok DATA"},
      {"hostlink-dotlink-inside", "ok DATA"},
  });
  expect_tree_unchanged();
}

TEST_F(WasiEscape, SymlinkChains) {
  expect_attempts({
      {"chain-out-open", "ENOTCAPABLE"},
      {"chain-out-stat", "ENOTCAPABLE"},
      {"chain-in-open", "ok DATA"},
      {"chain-loop-open", "ELOOP"},
      // A guest link to the host's chain: its text stays inside, so it may be made, but the
      // chain still cannot be followed out.
      {"chain-guest-to-host", "ok"},
      {"chain-guest-to-host-open", "ENOTCAPABLE"},
  });
  expect_tree(ExpectedTree(before_).added_symlink("data/g_chain", "chain_a"));
}

TEST_F(WasiEscape, GuestSymlinksPointingOutAreRefused) {
  expect_attempts({
      {"gsym-abs", "ENOTCAPABLE"},
      {"gsym-abs-host", "ENOTCAPABLE"},
      {"gsym-rel-out", "ENOTCAPABLE"},
      {"gsym-deep-out", "ENOTCAPABLE"},
      {"gsym-sneaky-out", "ENOTCAPABLE"},
      {"gsym-parent", "ENOTCAPABLE"},
      {"gsym-abs-raw", "ENOTCAPABLE"},
      {"gsym-subfd-out-raw", "ENOTCAPABLE"},
  });
  expect_tree_unchanged();
}

TEST_F(WasiEscape, GuestSymlinksLeadingDownWork) {
  expect_attempts({
      {"gsym-in", "ok DATA"},
      {"gsym-in-down", "ok SUB"},
      {"gsym-in-dot", "ok SUB"},
      {"gsym-in-dangling", "ok"},
  });
  expect_tree(ExpectedTree(before_)
                  .added_symlink("data/g_in", "file")
                  .added_symlink("data/g_down", "sub/subfile")
                  .added_symlink("data/g_dot", "./sub/./subfile")
                  .added_symlink("data/g_dangling", "nosuch"));
  for (const char* link : {"g_in", "g_down", "g_dot", "g_dangling"}) expect_followed_inside(link);
}

// A link whose text climbs ("..") can lead out even where it stays inside when made:
// "../outside/secret" in data/sub is data/outside/secret, but moved or hard-linked to /data it
// is the secret; and "g_self/../outside/secret" never climbs above /data as text, yet g_self
// is a link to "." there, so the kernel reads it as data/../outside/secret. The guest itself
// cannot follow any of these (openat2 refuses), but a host program can, which is what the
// refusal exists to prevent (wasi.h: "Symlinks the guest creates may not point outside the
// tree either"). So a guest's link may only lead down: no absolute target, no "..".
TEST_F(WasiEscape, GuestSymlinksThatClimbAreRefused) {
  expect_attempts({
      {"gsym-in-up", "ENOTCAPABLE"},
      {"gsym-plant", "ENOTCAPABLE"},
      {"gsym-self", "ok"},
      {"gsym-via-self", "ENOTCAPABLE"},
  });
  expect_tree(ExpectedTree(before_).added_symlink("data/g_self", "."));
  for (const char* link : {"g_self", "sub/g_up", "sub/g_planted", "g_via_self"}) {
    if (fs::is_symlink(data() / link)) expect_followed_inside(link);
  }
}

// The host's own link sub/dot_link -> ".." is /data; moved or hard-linked to /data itself it
// is the directory above, and a host program following data/g_moved/outside/secret reads the
// secret. The guest would have made a link out of the tree as surely as by creating one.
TEST_F(WasiEscape, GuestCannotMoveOrLinkASymlinkOut) {
  expect_attempts({
      {"hostlink-link-up", "ENOTCAPABLE"},
      {"hostlink-move-up", "ENOTCAPABLE"},
  });
  expect_tree_unchanged();
  for (const char* link : {"sub/dot_link", "g_linked", "g_moved"}) {
    if (fs::is_symlink(data() / link)) expect_followed_inside(link);
  }
}

// --- A race between a check and a use ----------------------------------------------------

// Swaps data/swap (a directory holding secret = "INSIDE") with data/swap_abs and data/swap_rel
// (links to outside/, absolute and relative) as fast as it can, by atomic rename exchanges,
// until stopped; it always stops with the directory back at data/swap.
class Swapper {
 public:
  explicit Swapper(const fs::path& data) : data_(data) {
    thread_ = std::thread([this] { loop(); });
    // Let it get going before the guest starts.
    while (swaps_.load() < 16 && error_.load() == 0) std::this_thread::yield();
  }
  ~Swapper() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long swaps() const { return swaps_.load(); }
  int error() const { return error_.load(); }

 private:
  bool exchange(const char* other) {
    const fs::path a = data_ / "swap", b = data_ / other;
    if (renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0) {
      error_ = errno;
      return false;
    }
    ++swaps_;
    return true;
  }
  void loop() {
    while (!stop_.load()) {
      for (const char* other : {"swap_abs", "swap_rel"}) {
        // Out and back: each pass ends with the directory at data/swap.
        if (!exchange(other) || !exchange(other)) return;
      }
    }
  }

  fs::path data_;
  std::atomic<bool> stop_{false};
  std::atomic<long> swaps_{0};
  std::atomic<int> error_{0};
  std::thread thread_;
};

// What the rounds of a race added up to: the guest's counters ("inside", "errors", ...) and
// the errno names it met.
struct RaceCounts {
  std::map<std::string, long> counts;
  std::set<std::string> errnos;
  int rounds = 0;
  long swaps = 0;

  std::string summary() const {
    std::ostringstream out;
    for (const auto& [name, n] : counts) out << name << "=" << n << " ";
    out << "errnos=";
    for (const auto& e : errnos) out << e << ",";
    out << " in " << rounds << " rounds, " << swaps << " swaps";
    return out.str();
  }
};

class WasiEscapeRace : public WasiEscape {
 protected:
  // Runs "`attempt` n" while a Swapper swaps, adding up the guest's counters, until `enough` is
  // true of them: on one busy CPU a whole round can fall within one state of data/swap, so a
  // round that saw only the directory or only the links is followed by another (50 at most).
  RaceCounts run_race(const std::string& attempt, int n,
                      const std::function<bool(const RaceCounts&)>& enough) {
    RaceCounts total;
    Swapper swapper(data());
    while (total.rounds < 50 && (total.rounds == 0 || !enough(total))) {
      total.rounds++;
      const std::vector<std::string> lines = run({attempt, std::to_string(n)});
      if (lines.size() != 1 || !lines[0].starts_with(attempt + " ")) {
        ADD_FAILURE() << "not a line of counters: " << ::testing::PrintToString(lines);
        break;
      }
      // "race-open inside=1 outside=0 other=0 errors=2 errnos=ENOTCAPABLE"
      static const std::regex field(R"(([a-z]+)=([^ ]+))");
      for (std::sregex_iterator it(lines[0].begin(), lines[0].end(), field), end; it != end; ++it) {
        const std::string name = (*it)[1], value = (*it)[2];
        if (name != "errnos") {
          total.counts[name] += std::stol(value);
        } else if (value != "-") {
          std::istringstream names(value);
          for (std::string e; std::getline(names, e, ',');) total.errnos.insert(e);
        }
      }
    }
    swapper.stop();
    total.swaps = swapper.swaps();
    EXPECT_EQ(swapper.error(), 0) << "renameat2(RENAME_EXCHANGE): " << strerror(swapper.error());
    RecordProperty("race", total.summary());
    return total;
  }
};

TEST_F(WasiEscapeRace, CheckThenUseOnOpen) {
  RaceCounts race = run_race("race-open", 10000, [](const RaceCounts& r) {
    return r.counts.at("inside") > 0 && r.counts.at("errors") > 0;
  });
  SCOPED_TRACE(race.summary());
  EXPECT_EQ(race.counts["outside"], 0);
  EXPECT_EQ(race.counts["other"], 0);
  EXPECT_GT(race.counts["inside"], 0);
  // The guest met the links too (else there was no race), and was refused by them.
  EXPECT_GT(race.counts["errors"], 0);
  EXPECT_EQ(race.errnos, std::set<std::string>{"ENOTCAPABLE"});
  expect_tree(ExpectedTree(before_).touched("data"));
}

// The same race for changes: a file created through a link would land in outside/ and change
// its mtime even though the guest removes it again.
TEST_F(WasiEscapeRace, CheckThenUseOnCreate) {
  RaceCounts race = run_race("race-create", 2000, [](const RaceCounts& r) {
    return r.counts.at("created") > 0 && r.counts.at("errors") > 0;
  });
  SCOPED_TRACE(race.summary());
  EXPECT_GT(race.counts["created"], 0);
  EXPECT_GT(race.counts["errors"], 0);
  EXPECT_EQ(race.errnos, std::set<std::string>{"ENOTCAPABLE"});
  expect_tree(ExpectedTree(before_).touched("data").touched("data/swap"));
}

// --- Hard links --------------------------------------------------------------------------

TEST_F(WasiEscape, HardLinks) {
  expect_attempts({
      // A second name in the writable tree for a read-only file would make it writable.
      {"link-ro-to-data", "EXDEV"},
      {"link-ro-subdir-to-data-raw", "EXDEV"},
      {"link-data-to-ro", "EROFS"},
      {"link-within-ro", "EROFS"},
      {"link-within-data", "ok DATA"},
      // Following in_link (-> file): another link to data/file.
      {"link-follow-within-data-raw", "ok"},
  });
  expect_tree(ExpectedTree(before_)
                  .added_hard_link("data/hl", "data/file")
                  .added_hard_link("data/hl_follow", "data/file"));
}

// --- The read-only preopen ---------------------------------------------------------------

TEST_F(WasiEscape, ReadOnlyPreopenCanBeRead) {
  expect_attempts({
      {"ro-read", "ok RO"},
      {"ro-read-sub", "ok INNER"},
      {"ro-list", "ok emptydir,file,sub"},
      {"ro-stat", "ok"},
  });
  expect_tree_unchanged();
}

TEST_F(WasiEscape, ReadOnlyPreopenRefusesEveryChange) {
  expect_attempts({
      {"ro-open-wronly", "EROFS"},
      {"ro-open-rdwr", "EROFS"},
      {"ro-open-trunc", "EROFS"},
      {"ro-open-append", "EROFS"},
      {"ro-create", "EROFS"},
      {"ro-create-rdonly", "EROFS"},
      {"ro-create-sub", "EROFS"},
      {"ro-create-subfd-raw", "EROFS"},
      {"ro-truncate", "EROFS"},
      {"ro-rename-from", "EROFS"},
      {"ro-rename-into", "EROFS"},
      {"ro-rename-within", "EROFS"},
      {"ro-unlink", "EROFS"},
      {"ro-unlink-sub", "EROFS"},
      {"ro-rmdir", "EROFS"},
      {"ro-mkdir", "EROFS"},
      {"ro-mkdir-subfd-raw", "EROFS"},
      {"ro-symlink", "EROFS"},
      {"link-data-to-ro", "EROFS"},
      {"ro-utimens", "EROFS"},
      {"ro-utimens-dir", "EROFS"},
      {"ro-futimens", "EROFS"},
      {"ro-set-append", "EROFS"},
      // A descriptor beneath /ro is never opened for writing (above), so a write through one
      // fails as it would on any descriptor opened for reading: write(2) with EBADF as POSIX
      // says, and the calls that need a right the descriptor lacks with ENOTCAPABLE.
      {"ro-write", "EBADF"},
      {"ro-ftruncate", "ENOTCAPABLE"},
      {"ro-fallocate", "ENOTCAPABLE"},
      {"ro-grant-write", "ENOTCAPABLE"},
  });
  expect_tree_unchanged();
}

// --- Everything at once ------------------------------------------------------------------

// Every attempt the guest knows, in one run (later attempts see what earlier ones did): none
// reads the secret, and nothing outside /data changes. A new attempt is covered here even
// before a test expects its line.
TEST_F(WasiEscape, AllAttemptsLeaveEverythingOutsideAlone) {
  const std::vector<std::string> lines = run({"all"});
  EXPECT_GT(lines.size(), 100u);
  for (const std::string& line : lines) EXPECT_EQ(line.find(" unknown"), std::string::npos);
  const Snapshot after = snapshot(root_);
  for (const auto& [path, node] : before_) {
    if (path.starts_with("data/") || path == "data") continue;
    ASSERT_TRUE(after.contains(path)) << path << " was removed";
    const Node& a = after.at(path);
    EXPECT_TRUE(a == node) << path << " changed";
  }
  for (const auto& [path, node] : after) {
    EXPECT_TRUE(path.starts_with("data/") || path == "data" || before_.contains(path))
        << path << " appeared";
  }
}

}  // namespace
}  // namespace wasm_sandbox
