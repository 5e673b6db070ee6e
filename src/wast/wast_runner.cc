// The spec script runner. Each command of the JSON that wast2json writes is one assertion:
// it passes or fails with a line that says where and why.
#include "wast/wast_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "engine/temp_dir.h"
#include "wast/spectest.h"

extern char** environ;

namespace wasm_sandbox::wast {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Runs wast2json, returning its stderr on failure.
Status run_wast2json(const fs::path& script, const fs::path& out_json, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::string script_arg = script.string(), out_arg = out_json.string();
  char* argv[] = {const_cast<char*>("wast2json"), script_arg.data(), const_cast<char*>("-o"),
                  out_arg.data(), nullptr};
  pid_t pid;
  int rc = posix_spawnp(&pid, "wast2json", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Error(ErrorKind::NotFound,
                 "cannot run wast2json (package wabt): " + std::string(std::strerror(rc)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::ifstream in(log);
  std::string first_line;
  std::getline(in, first_line);
  return Error(ErrorKind::InvalidArgument, script.string() + ": wast2json failed: " + first_line);
}

// ref.extern N is the host pointer N + 1, so that ref.extern 0 is not null.
ExternRef extern_of(uint64_t n) {
  return reinterpret_cast<ExternRef>(static_cast<uintptr_t>(n + 1));
}

std::optional<ValType> type_named(const std::string& name) {
  if (name == "i32") return ValType::I32;
  if (name == "i64") return ValType::I64;
  if (name == "f32") return ValType::F32;
  if (name == "f64") return ValType::F64;
  if (name == "funcref") return ValType::FuncRef;
  if (name == "externref") return ValType::ExternRef;
  return std::nullopt;
}

std::optional<Value> arg_value(const json& j) {
  auto type = type_named(j.value("type", ""));
  if (!type) return std::nullopt;
  const std::string text = j.contains("value") ? j["value"].get<std::string>() : "";
  if (*type == ValType::FuncRef || *type == ValType::ExternRef) {
    if (text == "null") return Value::zero(*type);
    if (*type == ValType::ExternRef) return Value::externref(extern_of(std::stoull(text)));
    return std::nullopt;
  }
  return Value::bits(*type, std::stoull(text));
}

// Does `got` satisfy the expectation `want` (exact bits, NaN patterns, reference identity)?
bool matches(const json& want, const Value& got) {
  auto type = type_named(want.value("type", ""));
  if (!type || *type != got.type()) return false;
  const std::string text = want.contains("value") ? want["value"].get<std::string>() : "";
  switch (*type) {
    case ValType::F32: {
      const uint32_t bits = static_cast<uint32_t>(got.raw_bits());
      if (text == "nan:canonical") return (bits & 0x7fffffffu) == 0x7fc00000u;
      if (text == "nan:arithmetic") return (bits & 0x7fc00000u) == 0x7fc00000u;
      return bits == static_cast<uint32_t>(std::stoull(text));
    }
    case ValType::F64: {
      const uint64_t bits = got.raw_bits();
      if (text == "nan:canonical") return (bits & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
      if (text == "nan:arithmetic") return (bits & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
      return bits == std::stoull(text);
    }
    case ValType::I32:
      return static_cast<uint32_t>(got.raw_bits()) == static_cast<uint32_t>(std::stoull(text));
    case ValType::I64:
      return got.raw_bits() == std::stoull(text);
    case ValType::FuncRef:
      if (text == "null") return got.is_null_ref();
      return !got.is_null_ref();  // (ref.func) without an index: any function
    case ValType::ExternRef:
      if (text == "null") return got.is_null_ref();
      return got.externref() == extern_of(std::stoull(text));
  }
  return false;
}

std::string describe_expected(const json& expected) {
  std::string out;
  for (const json& e : expected) {
    if (!out.empty()) out += ", ";
    out += e.value("type", "?") + ":" + (e.contains("value") ? e["value"].dump() : "?");
  }
  return out;
}

std::string describe_values(const std::vector<Value>& values) {
  std::string out;
  for (const Value& v : values) {
    if (!out.empty()) out += ", ";
    out += v.to_string();
  }
  return out;
}

class ScriptRun {
 public:
  ScriptRun(const Engine& engine, fs::path dir, std::string script)
      : engine_(engine), dir_(std::move(dir)) {
    result_.script = std::move(script);
  }

  Status init() { return add_spectest(imports_); }

  void run(const json& command) {
    const std::string type = command.value("type", "");
    line_ = command.value("line", 0);
    if (type == "module") return module(command);
    if (type == "register") return register_instance(command);
    if (type == "action") return expect_no_trap(command);
    if (type == "assert_return") return assert_return(command);
    if (type == "assert_trap" || type == "assert_exhaustion") return assert_trap(command, type);
    if (type == "assert_invalid" || type == "assert_malformed") return assert_rejected(command);
    if (type == "assert_unlinkable") return assert_instantiate_fails(command, ErrorKind::Link);
    if (type == "assert_uninstantiable") return assert_instantiate_fails(command, ErrorKind::Trap);
    fail("unknown command `" + type + "`");
  }

  ScriptResult take() { return std::move(result_); }

 private:
  void pass() { ++result_.passed; }
  void fail(const std::string& why) {
    ++result_.failed;
    result_.failures.push_back(result_.script + ":" + std::to_string(line_) + ": " + why);
  }

  Result<Module> load(const json& command) {
    const fs::path file = dir_ / command.value("filename", "");
    if (command.value("module_type", "binary") == "text") {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      return engine_.load_wat(text.str(), file.filename().string());
    }
    return engine_.load_file(file);
  }

  void module(const json& command) {
    current_.reset();
    auto loaded = load(command);
    if (!loaded) return fail("module: " + loaded.error().message());
    auto instance = loaded->instantiate(imports_);
    if (!instance) return fail("module: " + instance.error().message());
    current_ = *instance;
    if (command.contains("name"))
      named_.insert_or_assign(command["name"].get<std::string>(), *instance);
    pass();
  }

  void register_instance(const json& command) {
    const Instance* instance = target(command);
    if (!instance) return fail("register: no such module");
    imports_.add_instance(command.value("as", ""), *instance);
    pass();
  }

  const Instance* target(const json& command) {
    if (command.contains("name") || command.contains("module")) {
      const std::string name = command.contains("module") ? command["module"].get<std::string>()
                                                          : command["name"].get<std::string>();
      auto it = named_.find(name);
      return it == named_.end() ? nullptr : &it->second;
    }
    return current_ ? &*current_ : nullptr;
  }

  Result<std::vector<Value>> perform(const json& action) {
    const Instance* instance = target(action);
    if (!instance) return Error(ErrorKind::NotFound, "no module to act on");
    const std::string field = action.value("field", "");
    if (action.value("type", "") == "get") {
      auto global = instance->global(field);
      if (!global) return global.error();
      return std::vector<Value>{global->get()};
    }
    std::vector<Value> args;
    for (const json& a : action.value("args", json::array())) {
      auto value = arg_value(a);
      if (!value) return Error(ErrorKind::Unsupported, "argument of type " + a.value("type", "?"));
      args.push_back(*value);
    }
    return instance->call(field, args);
  }

  static std::string action_name(const json& command) {
    return "`" + command["action"].value("field", "") + "`";
  }

  void expect_no_trap(const json& command) {
    auto results = perform(command["action"]);
    if (!results) return fail("action " + action_name(command) + ": " + results.error().message());
    pass();
  }

  void assert_return(const json& command) {
    auto results = perform(command["action"]);
    const json& expected = command["expected"];
    const std::string what = "assert_return " + action_name(command);
    if (!results) return fail(what + ": " + results.error().message());
    bool ok = results->size() == expected.size();
    for (size_t i = 0; ok && i < expected.size(); ++i) ok = matches(expected[i], (*results)[i]);
    if (!ok) {
      return fail(what + ": got " + describe_values(*results) + ", expected " +
                  describe_expected(expected));
    }
    pass();
  }

  void assert_trap(const json& command, const std::string& type) {
    auto results = perform(command["action"]);
    const std::string what =
        type + " " + action_name(command) + " (" + command.value("text", "") + ")";
    if (results) return fail(what + ": returned " + describe_values(*results));
    if (results.error().kind() != ErrorKind::Trap) {
      return fail(what + ": failed without a trap: " + results.error().message());
    }
    if (type == "assert_exhaustion" && results.error().trap() != TrapKind::StackExhausted) {
      return fail(what + ": trapped with " + to_string(results.error().trap()));
    }
    pass();
  }

  void assert_rejected(const json& command) {
    const std::string what = command.value("type", "") + " " + command.value("filename", "") +
                             " (" + command.value("text", "") + ")";
    auto loaded = load(command);
    if (loaded) return fail(what + ": the module was accepted");
    const ErrorKind kind = loaded.error().kind();
    if (kind != ErrorKind::InvalidModule && kind != ErrorKind::Unsupported) {
      return fail(what + ": " + loaded.error().message());
    }
    pass();
  }

  void assert_instantiate_fails(const json& command, ErrorKind want) {
    const std::string what = command.value("type", "") + " " + command.value("filename", "") +
                             " (" + command.value("text", "") + ")";
    auto loaded = load(command);
    if (!loaded) return fail(what + ": " + loaded.error().message());
    auto instance = loaded->instantiate(imports_);
    if (instance) return fail(what + ": instantiation succeeded");
    if (instance.error().kind() != want) return fail(what + ": " + instance.error().message());
    pass();
  }

  const Engine& engine_;
  fs::path dir_;
  ScriptResult result_;
  int line_ = 0;
  Imports imports_;
  std::optional<Instance> current_;
  std::map<std::string, Instance> named_;
};

}  // namespace

Result<ScriptResult> run_script(const Engine& engine, const fs::path& script) {
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) {
    return Error(ErrorKind::NotFound, script.string() + ": no such file");
  }
  engine::TempDir dir("wasm-sandbox-wast-");
  if (dir.path().empty()) return Error(ErrorKind::Io, "cannot create a temporary directory");
  const fs::path json_path = dir.path() / (script.stem().string() + ".json");
  if (Status s = run_wast2json(script, json_path, dir.path() / "wast2json.log"); !s) {
    return std::move(s).error();
  }
  std::ifstream in(json_path);
  json commands = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (commands.is_discarded() || !commands.contains("commands")) {
    return Error(ErrorKind::InvalidArgument, script.string() + ": wast2json wrote unreadable JSON");
  }
  ScriptRun run(engine, dir.path(), script.filename().string());
  if (Status s = run.init(); !s) return std::move(s).error();
  for (const json& command : commands["commands"]) run.run(command);
  return run.take();
}

}  // namespace wasm_sandbox::wast
