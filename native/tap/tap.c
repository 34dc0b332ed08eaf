/*
 * tkl's optional TAP helper: Node cannot issue the TUNSETIFF ioctl, so this tiny N-API addon
 * opens /dev/net/tun as a TAP device (IFF_TAP | IFF_NO_PI, non-blocking; with offload also
 * IFF_VNET_HDR, a 10-byte virtio-net header, TUN_F_CSUM | TUN_F_TSO4) and watches the fd with
 * libuv so JavaScript reads frames only when the kernel has some. Nothing else is native.
 *   open(name[, offload]) -> { fd, name, vnetHdr, littleEndian[, offloadError] }
 *   watch(fd, onReadable) -> { stop(), unref() }
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "tkl_tap: N-API call failed: " #call);         \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value e, m, c;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_int32(env, err, &c);
  napi_set_named_property(env, e, "errno", c);
  napi_throw(env, e);
  return NULL;
}

/*
 * Opens the TAP `name`; with `vnet`, also asks for the virtio-net header and offloads. Returns the
 * fd, or -1 with *what naming the call that failed and errno set.
 *
 * The header is the 10-byte struct virtio_net_hdr (TUNSETVNETHDRSZ 10, the default, set
 * explicitly): the 12-byte variant only adds num_buffers, which means nothing on a TAP. Its
 * fields are made little-endian (TUNSETVNETLE) where the kernel allows; otherwise they are in
 * the host's order (legacy virtio), which the caller is told. Offloads: TUN_F_CSUM (frames may
 * carry partial checksums both ways) and TUN_F_TSO4 (TCP/IPv4 frames up to 64 KiB both ways).
 * Not TUN_F_TSO6: tkl has no IPv6, so Linux may as well segment IPv6 it would hand us.
 */
static int open_tap(const char *name, size_t len, int vnet, struct ifreq *ifr, int *le, const char **what) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *what = "open /dev/net/tun";
    return -1;
  }
  memset(ifr, 0, sizeof *ifr);
  ifr->ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  memcpy(ifr->ifr_name, name, len < IFNAMSIZ - 1 ? len : IFNAMSIZ - 1);
  *what = "TUNSETIFF";
  if (ioctl(fd, TUNSETIFF, ifr) < 0) goto fail;
  if (vnet) {
    int sz = 10;
    unsigned int off = TUN_F_CSUM | TUN_F_TSO4;
    int one = 1;
    *what = "TUNSETVNETHDRSZ";
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) goto fail;
    *le = ioctl(fd, TUNSETVNETLE, &one) == 0;
    *what = "TUNSETOFFLOAD";
    if (ioctl(fd, TUNSETOFFLOAD, off) < 0) goto fail;
  }
  return fd;
fail : {
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}
}

static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tkl_tap.open(name): name must be a string");
    return NULL;
  }
  bool vnet = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &vnet);
  struct ifreq ifr;
  int le = 0;
  const char *what = "";
  char offload_error[160] = {0};
  int fd = open_tap(name, len, vnet, &ifr, &le, &what);
  if (fd < 0 && vnet) {
    /* A kernel without these ioctls: say why, and open the plain TAP instead. */
    snprintf(offload_error, sizeof offload_error, "%s: %s", what, strerror(errno));
    vnet = false;
    fd = open_tap(name, len, 0, &ifr, &le, &what);
  }
  if (fd < 0) return throw_errno(env, what, errno);
  if (!le) {
    uint16_t probe = 1;
    le = *(uint8_t *)&probe == 1; /* legacy virtio: the host's own byte order */
  }
  napi_value out, v;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_named_property(env, out, "fd", v));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "name", v));
  CHECK(napi_create_int32(env, vnet ? 10 : 0, &v));
  CHECK(napi_set_named_property(env, out, "vnetHdr", v));
  CHECK(napi_get_boolean(env, le != 0, &v));
  CHECK(napi_set_named_property(env, out, "littleEndian", v));
  if (offload_error[0] != 0) {
    CHECK(napi_create_string_utf8(env, offload_error, NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_named_property(env, out, "offloadError", v));
  }
  return out;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  int stopped;
} watch_t;

static void on_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  watch_t *w = (watch_t *)p->data;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, result;
  napi_get_reference_value(env, w->callback, &cb);
  /* make_callback needs an object receiver; it drains the microtask queue afterwards. */
  napi_get_global(env, &recv);
  napi_make_callback(env, w->ctx, recv, cb, 0, NULL, &result);
  napi_close_handle_scope(env, scope);
}

static napi_value watch_stop(napi_env env, napi_callback_info info) {
  void *data;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
  watch_t *w = (watch_t *)data;
  if (!w->stopped) {
    w->stopped = 1;
    uv_poll_stop(&w->poll);
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->ctx);
    uv_close((uv_handle_t *)&w->poll, on_closed);
  }
  return NULL;
}

static napi_value watch_unref(napi_env env, napi_callback_info info) {
  void *data;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
  watch_t *w = (watch_t *)data;
  if (!w->stopped) uv_unref((uv_handle_t *)&w->poll);
  return NULL;
}

static napi_value tap_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "tkl_tap.watch(fd, onReadable)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watch_t *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", -r);
  }
  w->poll.data = w;
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  napi_value rname;
  CHECK(napi_create_string_utf8(env, "tkl_tap", NAPI_AUTO_LENGTH, &rname));
  CHECK(napi_async_init(env, NULL, rname, &w->ctx));
  r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r != 0) return throw_errno(env, "uv_poll_start", -r);
  napi_value out, fstop, funref;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_function(env, "stop", NAPI_AUTO_LENGTH, watch_stop, w, &fstop));
  CHECK(napi_create_function(env, "unref", NAPI_AUTO_LENGTH, watch_unref, w, &funref));
  CHECK(napi_set_named_property(env, out, "stop", fstop));
  CHECK(napi_set_named_property(env, out, "unref", funref));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  CHECK(napi_create_function(env, "open", NAPI_AUTO_LENGTH, tap_open, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "open", f));
  CHECK(napi_create_function(env, "watch", NAPI_AUTO_LENGTH, tap_watch, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "watch", f));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
