// `wasm-sandbox compile [--fuel] [--dense] MODULE -o FILE`: ahead-of-time compilation to an
// artifact that `call` and `run` load on machines without a C compiler.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::cli {

int run_compile(const CompileOptions& options) {
  EngineConfig config;
  config.fuel = options.fuel;
  if (options.dense) config.memory_mode = MemoryMode::Dense;
  Engine engine(config);
  std::ifstream in(options.module, std::ios::binary);
  if (!in) {
    print_error(options.module + ": cannot open for reading");
    return kExitUsage;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "\0asm", 4) != 0) {
    print_error(options.module + ": not a binary module (.wasm); convert text with wat2wasm");
    return kExitUsage;
  }
  auto artifact = engine.compile_artifact(bytes, options.module);
  if (!artifact) {
    print_error(artifact.error().message());
    return kExitUsage;
  }
  // Written to a temporary name beside the target, then renamed: never a half-written file.
  const std::string temp = options.output + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(artifact->data()),
              static_cast<std::streamsize>(artifact->size()));
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(temp, ec);
      print_error(options.output + ": cannot write");
      return kExitFailure;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, options.output, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    print_error(options.output + ": cannot write: " + ec.message());
    return kExitFailure;
  }
  std::printf("%s: %zu bytes%s%s\n", options.output.c_str(), artifact->size(),
              options.fuel ? ", metered (use with --fuel)" : "",
              options.dense ? ", bounds-checked (use with --dense)" : "");
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
