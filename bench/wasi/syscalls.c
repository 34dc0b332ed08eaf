/* System-call-heavy loops for bench/wasi.bench.ts, timed inside the program with the
 * monotonic clock so only the loop is measured:
 *   write1 N PATH     N one-byte writes to PATH (/dev/null)
 *   read4k MIB PATH   writes a MIB MiB file at PATH (untimed), then reads it in 4 KiB chunks
 *   openstat N PATH   N times open, fstat, close of PATH (made first)
 * Prints "ns_per_op=X" and, for reads, "mb_per_s=Y". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static char chunk[1 << 20];

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  long n = atol(argv[2]);
  const char *path = argv[3];
  if (strcmp(argv[1], "write1") == 0) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) { perror(path); return 1; }
    double t0 = now();
    for (long i = 0; i < n; i++) {
      if (write(fd, "x", 1) != 1) { perror("write"); return 1; }
    }
    double dt = now() - t0;
    close(fd);
    printf("ns_per_op=%.1f\n", dt / n);
    return 0;
  }
  if (strcmp(argv[1], "read4k") == 0) {
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) { perror(path); return 1; }
    memset(chunk, 'r', sizeof chunk);
    for (long i = 0; i < n; i++) {
      if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk) { perror("write"); return 1; }
    }
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    long total = 0, reads = 0;
    ssize_t r;
    double t0 = now();
    while ((r = read(fd, buf, sizeof buf)) > 0) { total += r; reads++; }
    double dt = now() - t0;
    close(fd);
    unlink(path);
    if (total != n << 20) { fprintf(stderr, "read %ld of %ld bytes\n", total, n << 20); return 1; }
    printf("ns_per_op=%.1f\nmb_per_s=%.1f\n", dt / reads, (total / 1048576.0) / (dt / 1e9));
    return 0;
  }
  if (strcmp(argv[1], "openstat") == 0) {
    close(open(path, O_CREAT | O_WRONLY, 0644));
    struct stat st;
    double t0 = now();
    for (long i = 0; i < n; i++) {
      int fd = open(path, O_RDONLY);
      if (fd < 0 || fstat(fd, &st) != 0) { perror(path); return 1; }
      close(fd);
    }
    double dt = now() - t0;
    unlink(path);
    printf("ns_per_op=%.1f\n", dt / n);
    return 0;
  }
  return 2;
}
