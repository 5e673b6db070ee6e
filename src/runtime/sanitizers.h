// Which sanitizer the runtime is built with, for the few places that must cooperate with one.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define WS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WS_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define WS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WS_TSAN 1
#endif
#endif

// For code that runs in the interrupt signal handler before it knows what the thread was
// doing: under ThreadSanitizer that may be the sanitizer's own runtime, which must not be
// re-entered. Such code reads shared data with __atomic builtins only.
#ifdef WS_TSAN
#define WS_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define WS_NO_TSAN
#endif
