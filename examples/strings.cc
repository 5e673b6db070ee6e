// Strings in and out of a guest: `example_strings [TEXT.WASM] [WORDS...]` upper-cases the
// words with text.wasm's `upper` (guests/text.c, built on the guest SDK) and counts them with
// its `count_words`.
#include <cstdio>
#include <string>

#include "wasm_sandbox/wasm_sandbox.h"

using namespace wasm_sandbox;

namespace {

int fail(const Error& error) {
  std::fprintf(stderr, "%s\n", error.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(GUEST_DIR) + "/text.wasm";
  std::string text;
  for (int i = 2; i < argc; ++i) text += (i > 2 ? " " : "") + std::string(argv[i]);
  if (text.empty()) text = "hello from the host";

  Engine engine;
  auto module = engine.load_file(path);
  if (!module) return fail(module.error());
  auto instance = module->instantiate();
  if (!instance) return fail(instance.error());
  auto data = GuestData::of(*instance);  // finds `memory`, `ws_alloc` and `ws_free`
  if (!data) return fail(data.error());

  // The common case in one call: copy in, call, copy out, free both.
  auto upper = data->call_string("upper", text);
  if (!upper) return fail(upper.error());
  std::printf("upper(\"%s\") = \"%s\"\n", text.c_str(), upper->c_str());

  // By hand, for a function returning something else: the input as a (ptr, len) pair.
  auto count_words = instance->typed<int32_t(uint32_t, uint32_t)>("count_words");
  if (!count_words) return fail(count_words.error());
  auto in = data->copy_in(text);
  if (!in) return fail(in.error());
  auto words = count_words->call(in->ptr, in->len);
  if (Status freed = data->free(*in); !freed) return fail(freed.error());
  if (!words) return fail(words.error());
  std::printf("count_words(\"%s\") = %d\n", text.c_str(), *words);
  return 0;
}
