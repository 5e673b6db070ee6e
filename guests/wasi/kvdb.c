// kvdb: a tiny key-value database in one append-only log file, a WASI guest (also built natively).
//
// Usage: kvdb DBFILE put KEY VALUE   store VALUE under KEY (creates DBFILE if missing)
//        kvdb DBFILE get KEY         print the value; exit 1 if KEY is not stored
//        kvdb DBFILE del KEY         remove KEY; exit 1 if KEY is not stored
//        kvdb DBFILE list            print every "KEY=VALUE", keys in byte order
//        kvdb DBFILE compact         rewrite the log with only the live entries
//   Keys are non-empty text without '=' or newline; values are text without newline (they may
//   contain '='). Errors go to stderr as "kvdb: PATH: reason" (or "kvdb: reason" when no file
//   is involved) and exit with 2, so that 1 always means "no such key".
//
// The log is text, one record per line: "+KEY=VALUE" sets, "-KEY" deletes; the last record for
// a key wins. put and del append one record with a single write(2). A last line without its
// newline is a record torn by a crash: it is ignored when reading and cut off (ftruncate) before
// the next append. Any other malformed line is reported as corruption with its line number.
// compact writes the live entries, sorted, to DBFILE.tmp, syncs it and renames it over DBFILE,
// so a crash leaves either the old log or the new one.
//
// Meant for small databases: the whole log is read into memory and entries are found by linear
// search, which keeps the program short.
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "kvdb"

enum { EXIT_MISSING = 1, EXIT_ERROR = 2 };

struct entry {
  char* key;
  char* value;
};

struct db {
  const char* path;
  int fd;  // open for reading and writing
  char* log;
  size_t log_len;
  size_t valid_len;  // log_len minus a torn last record
  struct entry* entries;
  size_t count, cap;
};

static void die_errno(const char* path) {
  fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
  exit(EXIT_ERROR);
}

static void die_oom(void) {
  fprintf(stderr, "%s: out of memory\n", PROG);
  exit(EXIT_ERROR);
}

static char* copy_span(const char* s, size_t n) {
  char* p = malloc(n + 1);
  if (!p) die_oom();
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static struct entry* find(struct db* db, const char* key) {
  for (size_t i = 0; i < db->count; i++)
    if (strcmp(db->entries[i].key, key) == 0) return &db->entries[i];
  return NULL;
}

static void set_entry(struct db* db, char* key, char* value) {
  struct entry* e = find(db, key);
  if (e) {
    free(key);
    free(e->value);
    e->value = value;
    return;
  }
  if (db->count == db->cap) {
    db->cap = db->cap ? db->cap * 2 : 16;
    db->entries = realloc(db->entries, db->cap * sizeof *db->entries);
    if (!db->entries) die_oom();
  }
  db->entries[db->count].key = key;
  db->entries[db->count].value = value;
  db->count++;
}

static void delete_entry(struct db* db, const char* key) {
  struct entry* e = find(db, key);
  if (!e) return;
  free(e->key);
  free(e->value);
  *e = db->entries[--db->count];
}

static void read_log(struct db* db) {
  size_t cap = 4096;
  db->log = malloc(cap);
  if (!db->log) die_oom();
  db->log_len = 0;
  for (;;) {
    if (db->log_len == cap) {
      cap *= 2;
      db->log = realloc(db->log, cap);
      if (!db->log) die_oom();
    }
    ssize_t n = read(db->fd, db->log + db->log_len, cap - db->log_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno(db->path);
    }
    if (n == 0) break;
    db->log_len += (size_t)n;
  }
}

// Replays the log into db->entries.
static void replay(struct db* db) {
  const char* log = db->log;
  size_t pos = 0, line_no = 0;
  while (pos < db->log_len) {
    const char* nl = memchr(log + pos, '\n', db->log_len - pos);
    if (!nl) break;  // torn last record
    line_no++;
    const char* rec = log + pos;
    size_t len = (size_t)(nl - rec);
    const char* eq = len > 0 ? memchr(rec, '=', len) : NULL;
    int has_nul = len > 0 && memchr(rec, '\0', len) != NULL;
    if (len >= 2 && rec[0] == '+' && eq && eq > rec + 1 && !has_nul) {
      set_entry(db, copy_span(rec + 1, (size_t)(eq - rec - 1)),
                copy_span(eq + 1, (size_t)(nl - eq - 1)));
    } else if (len >= 2 && rec[0] == '-' && !eq && !has_nul) {
      char* key = copy_span(rec + 1, len - 1);
      delete_entry(db, key);
      free(key);
    } else {
      fprintf(stderr, "%s: %s: corrupt record on line %zu\n", PROG, db->path, line_no);
      exit(EXIT_ERROR);
    }
    pos += len + 1;
  }
  db->valid_len = pos;
}

// Opens and loads DBFILE. Commands that append open it with O_RDWR | O_CREAT, the others with
// O_RDONLY, so that get, list and compact also work on a read-only file.
static void open_db(struct db* db, const char* path, int flags) {
  memset(db, 0, sizeof *db);
  db->path = path;
  db->fd = open(path, flags, 0644);
  if (db->fd < 0) die_errno(path);
  read_log(db);
  replay(db);
}

// Appends "+KEY=VALUE\n" (or "-KEY\n" when value is NULL) with one write, after cutting off a
// torn tail.
static void append_record(struct db* db, const char* key, const char* value) {
  size_t len = strlen(key) + (value ? strlen(value) + 1 : 0) + 2;
  char* record = malloc(len + 1);
  if (!record) die_oom();
  if (value)
    snprintf(record, len + 1, "+%s=%s\n", key, value);
  else
    snprintf(record, len + 1, "-%s\n", key);
  if (db->valid_len != db->log_len && ftruncate(db->fd, (off_t)db->valid_len) != 0)
    die_errno(db->path);
  if (lseek(db->fd, (off_t)db->valid_len, SEEK_SET) < 0) die_errno(db->path);
  ssize_t n = write(db->fd, record, len);
  if (n < 0) die_errno(db->path);
  if ((size_t)n != len) {
    fprintf(stderr, "%s: %s: short write (%zd of %zu bytes)\n", PROG, db->path, n, len);
    exit(EXIT_ERROR);
  }
  free(record);
}

static void close_db(struct db* db) {
  for (size_t i = 0; i < db->count; i++) {
    free(db->entries[i].key);
    free(db->entries[i].value);
  }
  free(db->entries);
  free(db->log);
  if (close(db->fd) != 0) die_errno(db->path);
}

static int compare_entries(const void* pa, const void* pb) {
  const struct entry *a = pa, *b = pb;
  return strcmp(a->key, b->key);  // strcmp compares as unsigned char: byte order
}

static void sort_entries(struct db* db) {
  qsort(db->entries, db->count, sizeof *db->entries, compare_entries);
}

static void compact(struct db* db) {
  sort_entries(db);
  size_t tmp_size = strlen(db->path) + 8;
  char* tmp_path = malloc(tmp_size);
  if (!tmp_path) die_oom();
  snprintf(tmp_path, tmp_size, "%s.tmp", db->path);
  FILE* f = fopen(tmp_path, "w");
  if (!f) die_errno(tmp_path);
  for (size_t i = 0; i < db->count; i++)
    fprintf(f, "+%s=%s\n", db->entries[i].key, db->entries[i].value);
  int failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
  int saved_errno = errno;
  if (fclose(f) != 0 && !failed) {
    failed = 1;
    saved_errno = errno;
  }
  if (!failed && rename(tmp_path, db->path) != 0) {
    failed = 1;
    saved_errno = errno;
  }
  if (failed) {
    unlink(tmp_path);
    errno = saved_errno;
    die_errno(tmp_path);
  }
  free(tmp_path);
}

static void check_key(const char* key) {
  const char* why = NULL;
  if (key[0] == '\0')
    why = "is empty";
  else if (strchr(key, '='))
    why = "contains '='";
  else if (strchr(key, '\n'))
    why = "contains a newline";
  if (why) {
    fprintf(stderr, "%s: invalid key \"%s\": it %s\n", PROG, key, why);
    exit(EXIT_ERROR);
  }
}

static void check_value(const char* value) {
  if (strchr(value, '\n')) {
    fprintf(stderr, "%s: invalid value for a key: it contains a newline\n", PROG);
    exit(EXIT_ERROR);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: %s DBFILE put KEY VALUE | get KEY | del KEY | list | compact\n", PROG);
  exit(EXIT_ERROR);
}

static void no_such_key(const struct db* db, const char* key) {
  fprintf(stderr, "%s: %s: no such key \"%s\"\n", PROG, db->path, key);
  exit(EXIT_MISSING);
}

int main(int argc, char** argv) {
  if (argc < 3) usage();
  const char* path = argv[1];
  const char* cmd = argv[2];
  struct db db;

  if (strcmp(cmd, "put") == 0 && argc == 5) {
    check_key(argv[3]);
    check_value(argv[4]);
    open_db(&db, path, O_RDWR | O_CREAT);
    append_record(&db, argv[3], argv[4]);
  } else if (strcmp(cmd, "get") == 0 && argc == 4) {
    check_key(argv[3]);
    open_db(&db, path, O_RDONLY);
    struct entry* e = find(&db, argv[3]);
    if (!e) no_such_key(&db, argv[3]);
    printf("%s\n", e->value);
  } else if (strcmp(cmd, "del") == 0 && argc == 4) {
    check_key(argv[3]);
    open_db(&db, path, O_RDWR);
    if (!find(&db, argv[3])) no_such_key(&db, argv[3]);
    append_record(&db, argv[3], NULL);
  } else if (strcmp(cmd, "list") == 0 && argc == 3) {
    open_db(&db, path, O_RDONLY);
    sort_entries(&db);
    for (size_t i = 0; i < db.count; i++) printf("%s=%s\n", db.entries[i].key, db.entries[i].value);
  } else if (strcmp(cmd, "compact") == 0 && argc == 3) {
    open_db(&db, path, O_RDONLY);
    compact(&db);
  } else {
    usage();
  }
  close_db(&db);
  return 0;
}
