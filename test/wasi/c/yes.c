/* Writes "y" lines to stdout for ever, as yes(1) does, ignoring write errors: it ends only
 * when something stops it (a closed pipe: SIGPIPE on Linux). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  char buf[4096];
  for (size_t i = 0; i + 2 <= sizeof buf; i += 2) memcpy(buf + i, "y\n", 2);
  for (;;) (void)write(1, buf, sizeof buf);
}
