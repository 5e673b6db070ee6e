// Engine: runs the pipeline decode -> generate C -> compile, and wraps the result as a Module.
#include <chrono>
#include <fstream>
#include <iterator>

#include "engine/compile_tcc.h"
#include "engine/decode.h"
#include "engine/generate_c.h"
#include "runtime/runtime.h"
#include "sandbox/state.h"
#include "wabt/ir.h"

namespace wasm_sandbox {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

Engine::Engine() : Engine(EngineConfig{}) {}

Engine::Engine(EngineConfig config) : state_(std::make_shared<detail::EngineState>()) {
  state_->config = config;
  runtime::ensure_initialized();
}

Result<Module> Engine::load(std::span<const uint8_t> wasm, std::string_view name) const {
  auto state = std::make_shared<detail::ModuleState>();
  auto start = std::chrono::steady_clock::now();
  auto decoded = engine::decode(wasm, name);
  if (!decoded) return std::move(decoded).error();
  state->stats.decode_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  state->info = std::move(decoded->info);
  auto source = engine::generate_c(*decoded->ir, state->info);
  if (!source) return std::move(source).error();
  decoded->ir.reset();
  state->stats.generate_ms = ms_since(start);
  state->stats.c_bytes = source->size();

  start = std::chrono::steady_clock::now();
  auto code = engine::compile_with_tcc(*source, name);
  if (!code) return std::move(code).error();
  state->stats.compile_ms = ms_since(start);
  state->code = std::move(*code);
  state->stats.code_bytes = state->code->code_size();

  const ws_glue& glue = state->glue();
  if (glue.import_count != state->info.imports.size() ||
      glue.export_count != state->info.exports.size()) {
    return Error(ErrorKind::Internal, std::string(name) + ": generated glue does not match");
  }
  glue.init_module();
  for (size_t i = 0; i < state->info.exports.size(); ++i) {
    state->export_index.emplace(state->info.exports[i].name, i);
  }
  return Module(std::move(state));
}

Result<Module> Engine::load_wat(std::string_view text, std::string_view name) const {
  auto wasm = engine::assemble_wat(text, name);
  if (!wasm) return std::move(wasm).error();
  return load(*wasm, name);
}

Result<Module> Engine::load_file(const std::filesystem::path& path) const {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error(
        std::filesystem::exists(path, ec) ? ErrorKind::Io : ErrorKind::NotFound,
        name + (std::filesystem::exists(path, ec) ? ": not a regular file" : ": no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::Io, name + ": cannot open for reading");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) return Error(ErrorKind::Io, name + ": read error");
  if (bytes.empty()) return Error(ErrorKind::InvalidModule, name + ": file is empty");
  // .wat is text and .wasm binary; anything else is binary if it starts with the magic.
  const auto ext = path.extension();
  const bool text = ext == ".wat" || (ext != ".wasm" && !engine::looks_like_binary(bytes));
  if (!text) return load(bytes, name);
  return load_wat(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  name);
}

}  // namespace wasm_sandbox
