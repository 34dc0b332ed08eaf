/* A small HTTP/1.0 server for WASI: polls and accepts on the preopened listening socket (`tkl
 * run --listen PORT`: the first socket after the preopened directories), answers GET /PATH with
 * the file PATH from its root directory (or 404), and serves N requests (argv[1], default
 * for ever) before exiting. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, 0);
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  long limit = argc > 1 ? atol(argv[1]) : -1;
  int ls = -1;
  for (int fd = 3; fd < 64 && ls < 0; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) ls = fd;
  }
  if (ls < 0) { fprintf(stderr, "httpd: no listening socket (run with --listen PORT)\n"); return 1; }
  printf("httpd: listening on fd %d\n", ls);
  fflush(stdout);
  for (long served = 0; limit < 0 || served < limit; served++) {
    /* Wait for a connection with poll() first (poll_oneoff on a socket), then accept. */
    struct pollfd p = { .fd = ls, .events = POLLIN };
    int r = poll(&p, 1, 60000);
    if (r != 1 || !(p.revents & POLLIN)) { fprintf(stderr, "httpd: poll gave %d (revents %x)\n", r, p.revents); return 1; }
    int c = accept(ls, NULL, NULL);
    if (c < 0) { perror("accept"); return 1; }
    char req[4096];
    size_t got = 0;
    while (got < sizeof req - 1) {
      ssize_t r = recv(c, req + got, sizeof req - 1 - got, 0);
      if (r <= 0) break;
      got += (size_t)r;
      req[got] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[got] = 0;
    char path[256] = "index.html";
    if (sscanf(req, "GET /%255s", path) == 1 && strcmp(path, "HTTP/1.0") != 0 && strcmp(path, "HTTP/1.1") != 0) {
      /* path set from the request */
    } else strcpy(path, "index.html");
    int fd = open(path, O_RDONLY);
    char head[256];
    if (fd < 0) {
      const char *body = "not found\n";
      snprintf(head, sizeof head, "HTTP/1.0 404 Not Found\r\nContent-Length: %zu\r\n\r\n", strlen(body));
      send_all(c, head, strlen(head));
      send_all(c, body, strlen(body));
    } else {
      off_t size = lseek(fd, 0, SEEK_END);
      lseek(fd, 0, SEEK_SET);
      snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Length: %lld\r\nServer: tkl-wasi\r\n\r\n", (long long)size);
      send_all(c, head, strlen(head));
      char buf[16384];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) send_all(c, buf, (size_t)n);
      close(fd);
    }
    shutdown(c, SHUT_WR);
    close(c);
  }
  return 0;
}
