/* Writes 20 files of 5,000 bytes into "out" (closing each), says "wrote", then sleeps: the
 * test interrupts it there and checks that what it wrote reached the disk image. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
  char path[32];
  unsigned char buf[5000];
  if (mkdir("out", 0755)) { perror("mkdir"); return 1; }
  for (int i = 0; i < 20; i++) {
    for (int j = 0; j < (int)sizeof buf; j++) buf[j] = (unsigned char)(i * 31 + j);
    snprintf(path, sizeof path, "out/f%02d", i);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || close(fd)) { perror(path); return 1; }
  }
  printf("wrote\n");
  fflush(stdout);
  sleep(60);
  return 0;
}
