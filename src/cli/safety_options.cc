// --fuel, --timeout, --memory-limit, --dense and --tier: from flags to EngineConfig, and limit
// breaches back to the flags that set them.
#include <cctype>
#include <charconv>
#include <utility>

#include "cli/commands.h"

namespace wasm_sandbox::cli {
namespace {

// 65536, 64KiB, 64K, 64MiB, 64M, 1GiB, 1G (binary units; a trailing B is optional).
std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit == "" || unit == "B") {
    shift = 0;
  } else if (unit == "K" || unit == "KIB" || unit == "KB") {
    shift = 10;
  } else if (unit == "M" || unit == "MIB" || unit == "MB") {
    shift = 20;
  } else if (unit == "G" || unit == "GIB" || unit == "GB") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

// Library messages name limits by their Limits field; the CLI user knows the flag.
const std::pair<std::string_view, std::string_view> kFlagNames[] = {
    {"Limits::fuel", "--fuel"},
    {"Limits::call_timeout", "--timeout"},
    {"Limits::memory_bytes", "--memory-limit"},
};

}  // namespace

Result<EngineConfig> engine_config(const SafetyOptions& options) {
  EngineConfig config;
  if (options.fuel) {
    config.fuel = true;
    config.limits.fuel = *options.fuel;
  }
  if (options.timeout_ms) {
    if (*options.timeout_ms == 0) {
      return Error(ErrorKind::InvalidArgument, "--timeout 0: expected a positive number of ms");
    }
    config.limits.call_timeout = std::chrono::milliseconds(*options.timeout_ms);
  }
  if (!options.memory_limit.empty()) {
    const auto bytes = parse_size(options.memory_limit);
    if (!bytes || *bytes < 65536) {
      return Error(ErrorKind::InvalidArgument,
                   "--memory-limit " + options.memory_limit +
                       ": expected a size of at least one 64 KiB page, like 65536, 640KiB, "
                       "64MiB or 1GiB");
    }
    config.limits.memory_bytes = *bytes;
  }
  if (options.dense) config.memory_mode = MemoryMode::Dense;
  if (options.tier == "baseline") config.tier = Tier::Baseline;
  if (options.tier == "optimized") config.tier = Tier::Optimized;
  if (options.tier == "auto") config.tier = Tier::Auto;
  return config;
}

void print_error(const Error& error) {
  std::string message = error.message();
  for (const auto& [field, flag] : kFlagNames) {
    if (const size_t at = message.find(field); at != std::string::npos) {
      message.replace(at, field.size(), flag);
    }
  }
  print_error(message);
}

void note_memory_limit(const Instance& instance, const SafetyOptions& options) {
  if (options.memory_limit.empty()) return;
  const auto limit = parse_size(options.memory_limit);
  for (const ExportDesc& desc : instance.exports()) {
    if (desc.type.kind != ExternKind::Memory) continue;
    auto memory = instance.memory(desc.name);
    if (!memory || !limit) continue;
    const uint64_t bytes = uint64_t{memory->pages()} * 65536;
    if (bytes + 65536 > *limit) {
      print_error(instance.name() + ": memory `" + desc.name + "` is at --memory-limit " +
                  options.memory_limit + " (" + std::to_string(memory->pages()) +
                  " pages): it could not grow further");
    }
  }
}

}  // namespace wasm_sandbox::cli
