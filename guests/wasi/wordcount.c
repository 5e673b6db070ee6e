// wordcount: counts lines, words and bytes like wc(1), a WASI guest (also built natively).
//
// Usage: wordcount [FILE]...
//   For each FILE prints "LINES WORDS BYTES NAME", each count right-aligned in 7 columns, and a
//   final "... total" line when more than one FILE is given. "-", or no FILE at all, reads
//   standard input (printed without a name when there is no FILE). A file that cannot be read is
//   reported on stderr as "wordcount: PATH: reason", counts nothing, and makes the exit code 1.
//
// Lines are newline characters, so a last line without one is not counted (as in wc). A word is
// a maximal run of bytes that are not ASCII whitespace (space, \t, \n, \v, \f, \r). Bytes >= 0x80
// are word bytes: the count does not depend on the locale or on UTF-8 validity, so the native
// and the wasm builds agree on any input. Input is read in 64 KiB chunks with read(2).
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROG "wordcount"

struct counts {
  long long lines, words, bytes;
};

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Counts everything readable from fd into *c; returns 0, or -1 with errno set by read().
static int count_fd(int fd, struct counts* c) {
  static unsigned char buf[64 * 1024];
  int in_word = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 0;
    c->bytes += n;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') c->lines++;
      if (is_space(buf[i])) {
        in_word = 0;
      } else if (!in_word) {
        in_word = 1;
        c->words++;
      }
    }
  }
}

static void print_counts(const struct counts* c, const char* name) {
  printf("%7lld %7lld %7lld", c->lines, c->words, c->bytes);
  if (name) printf(" %s", name);
  putchar('\n');
}

// Counts one argument, prints its line and adds it to *total; returns 0, or 1 after an error.
static int count_path(const char* path, const char* shown_name, struct counts* total) {
  int is_stdin = strcmp(path, "-") == 0;
  int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
    return 1;
  }
  struct counts c = {0, 0, 0};
  int status = 0;
  if (count_fd(fd, &c) != 0) {
    fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
    status = 1;
  } else {
    print_counts(&c, shown_name);
    total->lines += c.lines;
    total->words += c.words;
    total->bytes += c.bytes;
  }
  if (!is_stdin) close(fd);
  return status;
}

int main(int argc, char** argv) {
  struct counts total = {0, 0, 0};
  if (argc < 2) return count_path("-", NULL, &total);
  int status = 0;
  for (int i = 1; i < argc; i++) status |= count_path(argv[i], argv[i], &total);
  if (argc > 2) print_counts(&total, "total");
  return status;
}
