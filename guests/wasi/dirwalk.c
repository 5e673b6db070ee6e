// dirwalk: lists a directory tree, a WASI guest (also built natively).
//
// Usage: dirwalk DIR
//   Prints one line per entry below DIR (DIR itself is not listed), depth first:
//     d - PATH            a directory, then its contents
//     f SIZE PATH         a regular file and its size in bytes
//     l - PATH -> TARGET  a symbolic link and what it points to; it is never followed
//     ? - PATH            anything else (fifo, socket, device)
//   PATH is relative to DIR. The entries of each directory are sorted by name in byte order, so
//   the output does not depend on the order readdir returns them in. An entry that cannot be
//   read is reported on stderr as "dirwalk: PATH: reason", the walk goes on, and the exit code
//   is 1.
//
// Types come from lstat(2), not from readdir's d_type (not POSIX, and DT_UNKNOWN on some file
// systems); directory sizes are not printed because they depend on the file system.
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "dirwalk"

static int status;

static void report(const char* path) {
  fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
  status = 1;
}

static void die_oom(void) {
  fprintf(stderr, "%s: out of memory\n", PROG);
  exit(1);
}

static char* join(const char* a, const char* b) {
  size_t la = strlen(a), lb = strlen(b);
  char* p = malloc(la + lb + 2);
  if (!p) die_oom();
  memcpy(p, a, la);
  p[la] = '/';
  memcpy(p + la + 1, b, lb + 1);
  return p;
}

static int compare_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

// Reads the names in a directory, without "." and "..", sorted. Returns NULL after reporting.
static char** read_names(const char* path, size_t* count) {
  DIR* dir = opendir(path);
  if (!dir) {
    report(path);
    return NULL;
  }
  size_t n = 0, cap = 16;
  char** names = malloc(cap * sizeof *names);
  if (!names) die_oom();
  for (;;) {
    errno = 0;
    struct dirent* d = readdir(dir);
    if (!d) {
      if (errno != 0) report(path);
      break;
    }
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    if (n == cap) {
      cap *= 2;
      names = realloc(names, cap * sizeof *names);
      if (!names) die_oom();
    }
    names[n] = strdup(d->d_name);
    if (!names[n]) die_oom();
    n++;
  }
  closedir(dir);
  qsort(names, n, sizeof *names, compare_names);
  *count = n;
  return names;
}

// Prints one symbolic link line, with its target.
static void print_link(const char* path, const char* rel, const struct stat* st) {
  size_t size = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
  char* target = malloc(size);
  if (!target) die_oom();
  ssize_t n = readlink(path, target, size);
  if (n < 0) {
    report(path);
  } else {
    if ((size_t)n == size) n--;  // the link changed since lstat: show what fits
    target[n] = '\0';
    printf("l - %s -> %s\n", rel, target);
  }
  free(target);
}

// Lists the directory `path`, whose name relative to the root is `rel` ("" for the root).
static void walk(const char* path, const char* rel) {
  size_t count;
  char** names = read_names(path, &count);
  if (!names) return;
  for (size_t i = 0; i < count; i++) {
    char* child = join(path, names[i]);
    char* child_rel = rel[0] ? join(rel, names[i]) : strdup(names[i]);
    if (!child_rel) die_oom();
    struct stat st;
    if (lstat(child, &st) != 0) {
      report(child);
    } else if (S_ISDIR(st.st_mode)) {
      printf("d - %s\n", child_rel);
      walk(child, child_rel);
    } else if (S_ISREG(st.st_mode)) {
      printf("f %lld %s\n", (long long)st.st_size, child_rel);
    } else if (S_ISLNK(st.st_mode)) {
      print_link(child, child_rel, &st);
    } else {
      printf("? - %s\n", child_rel);
    }
    free(child_rel);
    free(child);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", PROG);
    return 2;
  }
  walk(argv[1], "");
  return status;
}
