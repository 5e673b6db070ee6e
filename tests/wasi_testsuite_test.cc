// Conformance: every program of ../shared/wasi-testsuite, run by the suite's own rules (see its
// README): arguments, environment and a preopened root from T.json, then the exit code and,
// where given, stdout and stderr must match.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> suite_programs() {
  std::vector<fs::path> programs;
  for (const char* group : {"c", "assemblyscript"}) {
    const fs::path dir = fs::path(WASI_TESTSUITE_DIR) / group;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".wasm") programs.push_back(entry.path());
    }
  }
  std::sort(programs.begin(), programs.end());
  return programs;
}

// A writable copy of a test's root directory, removed afterwards.
struct ScratchRoot {
  fs::path path;
  explicit ScratchRoot(const fs::path& source, const std::string& name) {
    path = fs::path(::testing::TempDir()) / ("wasi-suite-" + name);
    fs::remove_all(path);
    fs::copy(source, path, fs::copy_options::recursive);
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
    }
    fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
    std::vector<fs::path> stale;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (entry.path().string().ends_with(".cleanup")) stale.push_back(entry.path());
    }
    for (const auto& p : stale) fs::remove_all(p);
  }
  ~ScratchRoot() { fs::remove_all(path); }
};

class WasiTestsuite : public ::testing::TestWithParam<fs::path> {};

TEST_P(WasiTestsuite, Passes) {
  const fs::path program = GetParam();
  nlohmann::json spec = nlohmann::json::object();
  if (fs::path json = fs::path(program).replace_extension(".json"); fs::exists(json)) {
    spec = nlohmann::json::parse(std::ifstream(json));
  }
  WasiConfig config;
  std::vector<std::string> argv{program.filename().string()};
  if (spec.contains("args")) {
    for (const auto& a : spec["args"]) argv.push_back(a.get<std::string>());
  }
  config.args(argv).capture_stdout().capture_stderr().real_clocks().real_random();
  if (spec.contains("env")) {
    for (const auto& [key, value] : spec["env"].items()) config.env(key, value.get<std::string>());
  }
  std::optional<ScratchRoot> root;
  if (spec.contains("root") && !spec["root"].is_null()) {
    root.emplace(program.parent_path() / spec["root"].get<std::string>(), program.stem().string());
    config.preopen(root->path, "/");
  }
  auto wasi = Wasi::create(config);
  ASSERT_TRUE(wasi.ok()) << wasi.error().message();
  auto module = Engine().load_file(program);
  ASSERT_TRUE(module.ok()) << module.error().message();
  Imports imports;
  wasi->add_to(imports);
  auto instance = module->instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  auto status = wasi->run(*instance);
  ASSERT_TRUE(status.ok()) << status.error().message() << "\nstderr: " << wasi->stderr_text();
  EXPECT_EQ(*status, spec.value("exit_code", 0)) << "stderr: " << wasi->stderr_text();
  if (spec.contains("stdout")) {
    EXPECT_EQ(wasi->stdout_text(), spec["stdout"].get<std::string>());
  }
  if (spec.contains("stderr")) {
    EXPECT_EQ(wasi->stderr_text(), spec["stderr"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Suite, WasiTestsuite, ::testing::ValuesIn(suite_programs()),
                         [](const ::testing::TestParamInfo<fs::path>& info) {
                           std::string name = info.param.parent_path().filename().string() + "_" +
                                              info.param.stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(WasiTestsuiteInventory, AllTwentySixProgramsAreFound) {
  EXPECT_EQ(suite_programs().size(), 26u) << "looked in " << WASI_TESTSUITE_DIR;
}

}  // namespace
}  // namespace wasm_sandbox
