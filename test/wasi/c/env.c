/* Arguments, environment, exit codes and traps: prints argv and environ, then exits with
 * the code given by "exit N", or aborts with "abort". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = environ; *e != NULL; e++) printf("env %s\n", *e);
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "exit") == 0) return atoi(argv[i + 1]);
  }
  for (int i = 1; i < argc; i++) if (strcmp(argv[i], "abort") == 0) abort();
  return 0;
}
