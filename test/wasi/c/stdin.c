/* Standard input: reads it to the end in odd-sized pieces and prints how many bytes came
 * and their FNV-1a hash; with an argument, echoes each line back as it arrives (for ttys). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "echo") == 0) {
    char line[256];
    printf("ready isatty(0)=%d isatty(1)=%d\n", isatty(0), isatty(1));
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
      printf("got: %s", line);
      fflush(stdout);
    }
    printf("eof\n");
    return 0;
  }
  unsigned char buf[1000];
  uint32_t h = 2166136261u;
  unsigned long total = 0;
  ssize_t n;
  while ((n = read(0, buf, 997)) > 0) {
    for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 16777619u;
    total += (unsigned long)n;
  }
  printf("%lu %08x %s\n", total, h, n < 0 ? "error" : "eof");
  return n < 0 ? 1 : 0;
}
