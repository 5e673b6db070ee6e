// checksum: CRC-32 and 64-bit FNV-1a of files, a WASI guest (also built natively).
//
// Usage: checksum [FILE]...
//   For each FILE prints one line "CRC32 FNV1A64 BYTES NAME", both hashes in lowercase hex
//   (8 and 16 digits). "-", or no FILE at all, reads standard input. A file that cannot be read
//   is reported on stderr as "checksum: PATH: reason"; the others are still printed and the
//   exit code is 1.
//
// CRC-32 is the IEEE 802.3 one used by zlib and PNG (reflected polynomial 0xedb88320, initial
// value and final xor 0xffffffff): "123456789" gives cbf43926. FNV-1a 64 uses offset basis
// 0xcbf29ce484222325 and prime 0x100000001b3. Both are computed here, not taken from a library.
// Input is read in 64 KiB chunks with read(2), so the tests exercise fd_read with large buffers
// and files longer than one chunk.
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROG "checksum"
#define CHUNK (64 * 1024)

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

// Hashes one open file descriptor; returns 0, or -1 with errno set by read().
static int sum_fd(int fd, uint32_t* crc_out, uint64_t* fnv_out, uint64_t* bytes_out) {
  static unsigned char buf[CHUNK];
  uint32_t crc = 0xffffffffu;
  uint64_t fnv = 0xcbf29ce484222325u;
  uint64_t bytes = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) {
      crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
      fnv = (fnv ^ buf[i]) * 0x100000001b3u;
    }
    bytes += (uint64_t)n;
  }
  *crc_out = crc ^ 0xffffffffu;
  *fnv_out = fnv;
  *bytes_out = bytes;
  return 0;
}

// Prints the line for one argument; returns 0 on success, 1 after reporting an error.
static int sum_path(const char* path) {
  int is_stdin = strcmp(path, "-") == 0;
  int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
    return 1;
  }
  uint32_t crc;
  uint64_t fnv, bytes;
  int status = 0;
  if (sum_fd(fd, &crc, &fnv, &bytes) != 0) {
    fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
    status = 1;
  } else {
    printf("%08" PRIx32 " %016" PRIx64 " %" PRIu64 " %s\n", crc, fnv, bytes, path);
  }
  if (!is_stdin) close(fd);
  return status;
}

int main(int argc, char** argv) {
  crc_init();
  if (argc < 2) return sum_path("-");
  int status = 0;
  for (int i = 1; i < argc; i++) status |= sum_path(argv[i]);
  return status;
}
