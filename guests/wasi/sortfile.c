// sortfile: sorts the lines of a file, a WASI guest (also built natively).
//
// Usage: sortfile [-r] [-n] [-u] [-o OUT] FILE
//   -r      reverse the order
//   -n      numeric: compare the number at the start of each line (leading blanks, optional '-',
//           digits, optional '.' and digits; a line without one counts as 0), like sort -n
//   -u      unique: print only the first of each run of lines that compare equal (with -n: equal
//           numbers, as sort -n -u does)
//   -o OUT  write to OUT instead of stdout: the lines go to OUT.tmp (OUT.tmp1, ... if taken),
//           created with O_EXCL in OUT's directory, which is then renamed over OUT, so OUT is
//           never seen half-written. OUT may be FILE itself.
//   Errors go to stderr as "sortfile: PATH: reason" with exit code 1; usage errors exit 2.
//
// Every line is printed with a trailing newline, including a last line that had none. Without
// -n lines compare as unsigned bytes (memcmp), so the order does not depend on the locale. Equal
// keys are ordered by the whole line, then by input position, so the comparison is total and
// the output is the same with any qsort (wasi-libc's is not glibc's). Numbers are compared
// digit by digit, never converted to double, so long numbers compare exactly.
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "sortfile"

struct line {
  const char* text;  // not NUL-terminated; points into the file's buffer
  size_t len;
  size_t index;  // position in the input
};

static int opt_reverse, opt_numeric, opt_unique;

static void die_errno(const char* path) {
  fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
  exit(1);
}

static void die_oom(void) {
  fprintf(stderr, "%s: out of memory\n", PROG);
  exit(1);
}

// Reads the whole file; *len receives its size. Exits on error.
static char* read_file(const char* path, size_t* len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die_errno(path);
  size_t cap = 64 * 1024, size = 0;
  char* buf = malloc(cap);
  if (!buf) die_oom();
  for (;;) {
    if (size == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) die_oom();
    }
    ssize_t n = read(fd, buf + size, cap - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno(path);
    }
    if (n == 0) break;
    size += (size_t)n;
  }
  close(fd);
  *len = size;
  return buf;
}

// Splits buf into lines (without their newlines); *count receives how many.
static struct line* split_lines(const char* buf, size_t len, size_t* count) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
  if (len > 0 && buf[len - 1] != '\n') n++;
  struct line* lines = malloc((n ? n : 1) * sizeof *lines);
  if (!lines) die_oom();
  size_t start = 0, k = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len ? i > start : buf[i] == '\n') {
      lines[k].text = buf + start;
      lines[k].len = i - start;
      lines[k].index = k;
      k++;
      start = i + 1;
    }
  }
  *count = n;
  return lines;
}

static int compare_bytes(const struct line* a, const struct line* b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->text, b->text, n);
  if (c != 0) return c < 0 ? -1 : 1;
  return (a->len > b->len) - (a->len < b->len);
}

// The number at the start of a line, as spans of its digits.
struct number {
  int negative;
  const char* int_digits;  // without leading zeros
  size_t int_len;
  const char* frac_digits;  // without trailing zeros
  size_t frac_len;
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static struct number parse_number(const struct line* l) {
  const char *p = l->text, *end = l->text + l->len;
  struct number num = {0, p, 0, p, 0};
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  if (p < end && *p == '-') {
    num.negative = 1;
    p++;
  }
  while (p < end && *p == '0') p++;
  num.int_digits = p;
  while (p < end && is_digit(*p)) p++;
  num.int_len = (size_t)(p - num.int_digits);
  if (p < end && *p == '.') {
    num.frac_digits = ++p;
    while (p < end && is_digit(*p)) p++;
    num.frac_len = (size_t)(p - num.frac_digits);
    while (num.frac_len > 0 && num.frac_digits[num.frac_len - 1] == '0') num.frac_len--;
  }
  if (num.int_len == 0 && num.frac_len == 0) num.negative = 0;  // -0 and "abc" are 0
  return num;
}

// Compares |a| and |b|.
static int compare_magnitude(const struct number* a, const struct number* b) {
  if (a->int_len != b->int_len) return a->int_len < b->int_len ? -1 : 1;
  int c = memcmp(a->int_digits, b->int_digits, a->int_len);
  if (c != 0) return c < 0 ? -1 : 1;
  size_t n = a->frac_len < b->frac_len ? a->frac_len : b->frac_len;
  c = memcmp(a->frac_digits, b->frac_digits, n);
  if (c != 0) return c < 0 ? -1 : 1;
  return (a->frac_len > b->frac_len) - (a->frac_len < b->frac_len);
}

static int compare_numeric(const struct line* a, const struct line* b) {
  struct number x = parse_number(a), y = parse_number(b);
  if (x.negative != y.negative) return x.negative ? -1 : 1;
  int c = compare_magnitude(&x, &y);
  return x.negative ? -c : c;
}

// The key comparison: what -u considers equal.
static int compare_key(const struct line* a, const struct line* b) {
  return opt_numeric ? compare_numeric(a, b) : compare_bytes(a, b);
}

static int compare_lines(const void* pa, const void* pb) {
  const struct line *a = pa, *b = pb;
  int c = compare_key(a, b);
  if (c == 0 && !opt_unique) c = compare_bytes(a, b);
  if (opt_reverse) c = -c;
  if (c == 0) c = (a->index > b->index) - (a->index < b->index);
  return c;
}

// Writes every line with its newline; returns 0, or -1 with errno set.
static int write_lines(FILE* out, const struct line* lines, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (opt_unique && i > 0 && compare_key(&lines[i - 1], &lines[i]) == 0) continue;
    if (fwrite(lines[i].text, 1, lines[i].len, out) != lines[i].len || putc('\n', out) == EOF)
      return -1;
  }
  return fflush(out) == 0 ? 0 : -1;
}

// Creates OUT.tmp, OUT.tmp1, ... exclusively; returns the open stream and fills tmp_path.
static FILE* create_temp(const char* out_path, char* tmp_path, size_t tmp_size) {
  for (int attempt = 0; attempt < 100; attempt++) {
    if (attempt == 0)
      snprintf(tmp_path, tmp_size, "%s.tmp", out_path);
    else
      snprintf(tmp_path, tmp_size, "%s.tmp%d", out_path, attempt);
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      FILE* f = fdopen(fd, "w");
      if (!f) die_errno(tmp_path);
      return f;
    }
    if (errno != EEXIST) die_errno(tmp_path);
  }
  die_errno(tmp_path);
  return NULL;
}

static void write_output_file(const char* out_path, const struct line* lines, size_t count) {
  size_t tmp_size = strlen(out_path) + 16;
  char* tmp_path = malloc(tmp_size);
  if (!tmp_path) die_oom();
  FILE* f = create_temp(out_path, tmp_path, tmp_size);
  int failed = write_lines(f, lines, count) != 0 || fsync(fileno(f)) != 0;
  int saved_errno = errno;
  if (fclose(f) != 0 && !failed) {
    failed = 1;
    saved_errno = errno;
  }
  if (!failed && rename(tmp_path, out_path) != 0) {
    saved_errno = errno;
    unlink(tmp_path);
    errno = saved_errno;
    die_errno(out_path);
  }
  if (failed) {
    unlink(tmp_path);
    errno = saved_errno;
    die_errno(tmp_path);
  }
  free(tmp_path);
}

static void usage(void) {
  fprintf(stderr, "usage: %s [-r] [-n] [-u] [-o OUT] FILE\n", PROG);
  exit(2);
}

int main(int argc, char** argv) {
  const char* out_path = NULL;
  const char* in_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (strcmp(a, "-o") == 0) {
      if (++i == argc) usage();
      out_path = argv[i];
    } else if (a[0] == '-' && a[1] != '\0') {
      for (const char* f = a + 1; *f; f++) {
        if (*f == 'r')
          opt_reverse = 1;
        else if (*f == 'n')
          opt_numeric = 1;
        else if (*f == 'u')
          opt_unique = 1;
        else
          usage();
      }
    } else if (!in_path) {
      in_path = a;
    } else {
      usage();
    }
  }
  if (!in_path) usage();

  size_t len, count;
  char* buf = read_file(in_path, &len);
  struct line* lines = split_lines(buf, len, &count);
  qsort(lines, count, sizeof *lines, compare_lines);
  if (out_path) {
    write_output_file(out_path, lines, count);
  } else if (write_lines(stdout, lines, count) != 0) {
    die_errno("<stdout>");
  }
  free(lines);
  free(buf);
  return 0;
}
