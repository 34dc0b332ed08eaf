/* Files, directories and symlinks through libc: a fixed script of operations whose output
 * must be the same natively on Linux and under `tkl run --dir TMP:/` (run in a fresh
 * directory each time). Errors print as names, since errno numbers differ between libcs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case EBADF: return "EBADF";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    default: return "E?";
  }
}

#define TRY(label, expr) do { errno = 0; long r_ = (long)(expr); printf("%-34s %ld %s\n", label, r_ < 0 ? -1L : r_, ename(r_ < 0 ? errno : 0)); } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { printf("opendir %s %s\n", dir, ename(errno)); return; }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("ls %s:", dir);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

static void cat(const char *path) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("cat %s %s\n", path, ename(errno)); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  for (ssize_t i = 0; i < n; i++) if (buf[i] == 0) buf[i] = '.';
  printf("cat %s [%s]\n", path, buf);
}

int main(void) {
  struct stat st;
  char buf[64];
  TRY("mkdir work", mkdir("work", 0755));
  TRY("mkdir work again", mkdir("work", 0755));
  TRY("mkdir work/sub", mkdir("work/sub", 0755));
  TRY("mkdir no/such/parent", mkdir("no/such/parent", 0755));

  int fd = open("work/a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  TRY("open work/a.txt", fd >= 0 ? 0 : -1);
  TRY("write hello world", write(fd, "hello world\n", 12));
  TRY("close", close(fd));
  TRY("open O_EXCL existing", open("work/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
  TRY("open missing", open("work/missing", O_RDONLY));
  TRY("open file as dir", open("work/a.txt/x", O_RDONLY));
  TRY("open dir for writing", open("work", O_WRONLY));
  TRY("open O_DIRECTORY on file", open("work/a.txt", O_RDONLY | O_DIRECTORY));

  fd = open("work/a.txt", O_RDWR);
  memset(buf, 0, sizeof buf);
  TRY("pread 6", pread(fd, buf, 6, 6));
  printf("  got [%s]\n", buf);
  TRY("lseek end", lseek(fd, 0, SEEK_END));
  TRY("pwrite at 20", pwrite(fd, "Z", 1, 20));
  TRY("fstat size", (fstat(fd, &st), st.st_size));
  TRY("ftruncate 5", ftruncate(fd, 5));
  TRY("lseek set 0", lseek(fd, 0, SEEK_SET));
  memset(buf, 0, sizeof buf);
  TRY("read after truncate", read(fd, buf, sizeof buf));
  printf("  got [%s]\n", buf);
  TRY("lseek negative", lseek(fd, -10, SEEK_SET));
  TRY("fsync", fsync(fd));
  TRY("close", close(fd));

  fd = open("work/a.txt", O_WRONLY | O_APPEND);
  TRY("append", write(fd, "+tail", 5));
  TRY("close", close(fd));
  cat("work/a.txt");

  TRY("rename a.txt -> sub/b.txt", rename("work/a.txt", "work/sub/b.txt"));
  TRY("stat old name", stat("work/a.txt", &st));
  TRY("link sub/b.txt -> c.txt", link("work/sub/b.txt", "work/c.txt"));
  TRY("nlink", (stat("work/c.txt", &st), (long)st.st_nlink));
  TRY("link onto existing", link("work/sub/b.txt", "work/c.txt"));
  TRY("link a directory", link("work/sub", "work/subhard"));
  TRY("symlink s -> sub/b.txt", symlink("sub/b.txt", "work/s"));
  memset(buf, 0, sizeof buf);
  TRY("readlink s", readlink("work/s", buf, sizeof buf));
  printf("  got [%s]\n", buf);
  TRY("readlink regular file", readlink("work/c.txt", buf, sizeof buf));
  TRY("lstat s is link", (lstat("work/s", &st), S_ISLNK(st.st_mode) ? 1 : 0));
  TRY("stat through s size", (stat("work/s", &st), (long)st.st_size));
  cat("work/s");
  TRY("symlink dangling", symlink("nope", "work/d"));
  TRY("open dangling", open("work/d", O_RDONLY));
  TRY("symlink loop", symlink("loop", "work/loop"));
  TRY("open loop", open("work/loop", O_RDONLY));
  TRY("open O_NOFOLLOW link", open("work/s", O_RDONLY | O_NOFOLLOW));
  TRY("rmdir non-empty", rmdir("work/sub"));
  TRY("unlink a directory", unlink("work/sub"));
  TRY("rmdir a file", rmdir("work/c.txt"));
  TRY("rename dir into itself", rename("work", "work/sub/x"));
  TRY("rename file over dir", rename("work/c.txt", "work/sub"));
  TRY("mkdir work/e", mkdir("work/e", 0755));
  TRY("rename sub over empty e", rename("work/sub", "work/e"));
  list("work");
  list("work/e");

  struct timespec times[2] = { { 1000, 0 }, { 2000, 500 } };
  TRY("utimensat", utimensat(AT_FDCWD, "work/c.txt", times, 0));
  TRY("mtime sec", (stat("work/c.txt", &st), (long)st.st_mtim.tv_sec));
  TRY("mtime nsec", (stat("work/c.txt", &st), (long)st.st_mtim.tv_nsec));
  TRY("atime sec", (stat("work/c.txt", &st), (long)st.st_atim.tv_sec));

  for (int i = 0; i < 40; i++) {
    snprintf(buf, sizeof buf, "work/many-%02d", i);
    close(open(buf, O_CREAT | O_WRONLY, 0644));
  }
  DIR *d = opendir("work");
  int count = 0;
  long mark = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) { if (++count == 10) mark = telldir(d); }
  seekdir(d, mark);
  int rest = 0;
  while ((e = readdir(d)) != NULL) rest++;
  closedir(d);
  printf("readdir count %d, after telldir(10) %d\n", count, rest);

  for (int i = 0; i < 40; i++) {
    snprintf(buf, sizeof buf, "work/many-%02d", i);
    unlink(buf);
  }
  TRY("unlink s", unlink("work/s"));
  TRY("unlink d", unlink("work/d"));
  TRY("unlink loop", unlink("work/loop"));
  TRY("unlink c.txt", unlink("work/c.txt"));
  TRY("unlink e/b.txt", unlink("work/e/b.txt"));
  TRY("rmdir e", rmdir("work/e"));
  TRY("rmdir work", rmdir("work"));
  TRY("stat work", stat("work", &st));
  return 0;
}
