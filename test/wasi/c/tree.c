/* Leaves a tree on a disk for other tools to check: "write" makes directories, files of
 * several sizes (one of 3 MiB with a known pattern), a symlink and a hard link; "check" reads
 * it all back; "touch PATH" tries to create a file and prints the errno name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char pattern(long i) { return (unsigned char)((i * 131 + (i >> 12)) & 0xff); }

static int write_file(const char *path, long size) {
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) { perror(path); return 1; }
  unsigned char buf[8192];
  for (long off = 0; off < size;) {
    long n = size - off < (long)sizeof buf ? size - off : (long)sizeof buf;
    for (long i = 0; i < n; i++) buf[i] = pattern(off + i);
    if (write(fd, buf, n) != n) { perror("write"); return 1; }
    off += n;
  }
  return close(fd);
}

static int check_file(const char *path, long size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { perror(path); return 1; }
  unsigned char buf[5000];
  long off = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) if (buf[i] != pattern(off + i)) { printf("%s: bad byte at %ld\n", path, off + i); return 1; }
    off += n;
  }
  close(fd);
  if (off != size) { printf("%s: %ld bytes, expected %ld\n", path, off, size); return 1; }
  return 0;
}

static const long sizes[] = { 0, 1, 4095, 4096, 4097, 65536, 3 << 20 };

int main(int argc, char **argv) {
  char path[64];
  if (argc > 2 && strcmp(argv[1], "touch") == 0) {
    int fd = open(argv[2], O_CREAT | O_WRONLY, 0644);
    printf("%s\n", fd >= 0 ? "OK" : errno == EROFS ? "EROFS" : strerror(errno));
    return 0;
  }
  int write_mode = argc > 1 && strcmp(argv[1], "write") == 0;
  if (write_mode) {
    if (mkdir("data", 0755) || mkdir("data/sub", 0755)) { perror("mkdir"); return 1; }
  }
  for (int i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
    snprintf(path, sizeof path, "data/sub/f%d", i);
    if (write_mode ? write_file(path, sizes[i]) : check_file(path, sizes[i])) return 1;
  }
  if (write_mode) {
    if (symlink("sub/f6", "data/big") || link("data/sub/f5", "data/hard")) { perror("link"); return 1; }
  } else {
    struct stat st;
    if (check_file("data/big", sizes[6]) || stat("data/hard", &st) || st.st_nlink != 2) { printf("links broken\n"); return 1; }
  }
  printf("%s ok\n", write_mode ? "write" : "check");
  return 0;
}
