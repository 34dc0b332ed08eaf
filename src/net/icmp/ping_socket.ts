// Ping sockets (Linux's net/ipv4/ping.c): socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP). The
// program sends an ICMP echo request (header and data); the kernel puts the socket's
// identifier in it and computes the checksum, and hands back the matching echo replies.

import type { Instant } from '../../host/host_ops.js';
import { E } from '../../kernel/errno.js';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll.js';
import { IPPROTO_ICMP, SOCK_DGRAM } from '../../abi/linux/socket.js';
import { DgramQueue } from '../socket/dgram_queue.js';
import { AF_INET, inetAddr, inetArg, type SockAddr } from '../socket/sockaddr.js';
import { Socket, type RecvInfo } from '../socket/socket.js';
import type { NetStack } from '../stack.js';
import { L4_OFF } from '../stack.js';
import { emitIcmp, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_HLEN, ICMP_TIME_EXCEEDED } from '../wire/icmp.js';
import { errorFromIcmp } from '../udp/udp.js';

export class PingSocket extends Socket {
  readonly family = AF_INET;
  readonly type = SOCK_DGRAM;
  readonly protocol = IPPROTO_ICMP;
  ttl = 64;
  private id = 0;
  private localAddr = 0;
  private remote = 0;
  private readonly rx = new DgramQueue();

  constructor(private readonly stack: NetStack) {
    super(212992, 212992);
  }

  override bind(addr: SockAddr, now: Instant): void {
    void now;
    const a = inetArg(addr);
    if (this.id !== 0) throw E.EINVAL;
    if (a.addr !== 0 && !this.stack.isLocal(a.addr)) throw E.EADDRNOTAVAIL;
    this.localAddr = a.addr;
    this.allocId(a.port);
  }

  private allocId(want: number): void {
    const map = this.stack.icmp.pingSockets;
    if (want !== 0) {
      if (map.has(want)) throw E.EADDRINUSE;
      this.id = want;
    } else {
      const r = new Uint8Array(2);
      this.stack.host.randomFill(r);
      let id = ((r[0]! << 8) | r[1]!) || 1;
      for (let i = 0; i < 65536 && map.has(id); i++) id = (id % 65535) + 1;
      if (map.has(id)) throw E.EAGAIN;
      this.id = id;
    }
    map.set(this.id, this);
  }

  override connect(addr: SockAddr, now: Instant): void {
    void now;
    this.remote = inetArg(addr).addr;
  }

  sendmsg(buf: Uint8Array, off: number, len: number, to: SockAddr | null, flags: number, now: Instant): number {
    void flags;
    const dst = to !== null ? inetArg(to).addr : this.remote;
    if (dst === 0) throw E.EDESTADDRREQ;
    if (len < ICMP_HLEN || buf[off] !== ICMP_ECHO || buf[off + 1] !== 0) throw E.EINVAL;
    // The ICMP message plus a 20-byte IPv4 header must fit the 16-bit total length (Linux:
    // ip_append_data refuses more than 0xFFFF), so 65515 bytes = 8 header + 65507 data.
    if (len > 65535 - 20) throw E.EMSGSIZE;
    if (this.id === 0) this.allocId(0);
    const r = this.stack.route(dst);
    if (r === null) throw E.ENETUNREACH;
    const f = this.stack.allocFrame(len);
    f.set(buf.subarray(off, off + len), L4_OFF);
    emitIcmp(f, L4_OFF, len, ICMP_ECHO, 0, this.id, (buf[off + 6]! << 8) | buf[off + 7]!);
    const src = this.localAddr || this.stack.sourceFor(r, dst);
    this.stack.stats.IcmpOutMsgs++;
    this.stack.stats.IcmpOutEchos++;
    const err = this.stack.ipOutput(f, len, 1, src, dst, r, this.ttl, 0, false, now);
    if (err !== null) throw err;
    return len;
  }

  /** An echo reply for our identifier arrived. */
  deliver(from: number, buf: Uint8Array, off: number, len: number, now: Instant): void {
    void now;
    if (this.remote !== 0 && from !== this.remote) return;
    if (this.rx.push(buf, off, len, inetAddr(from, 0), this.rcvbuf)) this.queue.notify(POLLIN | POLLRDNORM);
  }

  error(type: number, code: number): void {
    if (type !== ICMP_DEST_UNREACH && type !== ICMP_TIME_EXCEEDED) return;
    this.softError = errorFromIcmp(type, code);
    this.queue.notify(POLLERR);
  }

  recvmsg(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null, now: Instant): number {
    void now;
    if (this.rx.length === 0) {
      const e = this.takeError();
      if (e !== null) throw e;
    }
    return this.rx.recv(buf, off, len, flags, info);
  }

  getsockname(): SockAddr {
    return inetAddr(this.localAddr, this.id);
  }
  getpeername(): SockAddr {
    if (this.remote === 0) throw E.ENOTCONN;
    return inetAddr(this.remote, 0);
  }
  poll(): number {
    let m = POLLOUT | POLLWRNORM;
    if (this.rx.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.softError !== null) m |= POLLERR;
    return m;
  }
  release(): void {
    if (this.id !== 0 && this.stack.icmp.pingSockets.get(this.id) === this) this.stack.icmp.pingSockets.delete(this.id);
    this.rx.clear();
  }
}
