/* poll() and sleeping: "poll MS" waits up to MS for stdin and says what happened and how long
 * it took; "sleep S" sleeps S seconds and prints the monotonic and realtime clocks' advance;
 * "spin" loops for ever without a system call (for Ctrl-C). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (strcmp(argv[1], "poll") == 0) {
    int ms = atoi(argv[2]);
    struct pollfd p = { .fd = 0, .events = POLLIN };
    double t0 = now(CLOCK_MONOTONIC);
    int r = poll(&p, 1, ms);
    double dt = now(CLOCK_MONOTONIC) - t0;
    printf("poll=%d revents=%s elapsed_ms=%.0f\n", r, (p.revents & POLLIN) ? "IN" : "-", dt * 1000);
    if (r > 0) {
      char buf[64];
      ssize_t n = read(0, buf, sizeof buf - 1);
      buf[n > 0 ? n : 0] = 0;
      printf("read=%zd [%s]\n", n, buf);
    }
    return 0;
  }
  if (strcmp(argv[1], "sleep") == 0) {
    double s = atof(argv[2]);
    double m0 = now(CLOCK_MONOTONIC), r0 = now(CLOCK_REALTIME);
    struct timespec req = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    nanosleep(&req, NULL);
    printf("monotonic=%.3f realtime=%.3f\n", now(CLOCK_MONOTONIC) - m0, now(CLOCK_REALTIME) - r0);
    return 0;
  }
  if (strcmp(argv[1], "spin") == 0) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long x = 0;
    for (;;) x++;
  }
  return 2;
}
