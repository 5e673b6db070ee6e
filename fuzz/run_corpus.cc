// Runs a fuzz entry point over files, without libFuzzer: the corpus regression tests
// (fuzz_corpus with the load harness, fuzz_artifact_corpus with the artifact harness).
//
//   fuzz_corpus PATH...    each PATH a file, or a directory whose regular files are all run
//
// Exits 0 once every input has gone through; a finding crashes or aborts the process (under
// the sanitizer presets, with a report). Prints each file before running it, so the log of a
// failure names the input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz_corpus: cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  std::fprintf(stderr, "%s\n", path.c_str());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    std::error_code ec;
    if (!std::filesystem::is_directory(arg, ec)) {
      files.push_back(arg);
      continue;
    }
    for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (ec) {
      std::fprintf(stderr, "fuzz_corpus: cannot list %s: %s\n", argv[i], ec.message().c_str());
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: fuzz_corpus PATH...  (no input files found)\n");
    return 1;
  }
  std::sort(files.begin(), files.end());  // a stable order for logs
  size_t ran = 0;
  for (const auto& file : files) ran += run_file(file) ? 1 : 0;
  std::fprintf(stderr, "fuzz_corpus: %zu of %zu inputs ran\n", ran, files.size());
  return ran == files.size() ? 0 : 1;
}
