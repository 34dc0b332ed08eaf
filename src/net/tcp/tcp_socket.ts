// A TCP connection (Linux's struct tcp_sock; RFC 9293's TCB) and its socket: the state machine
// of RFC 9293 §3.10 with RFC 5961's defences, RFC 7323 window scaling, timestamps and PAWS,
// RFC 2018 SACK with RFC 6675 loss recovery (NewReno, RFC 6582, without SACK), RFC 6298 RTO,
// delayed ACKs, Nagle, keepalive and zero-window probes. Driven only by segments, application
// calls and its own deadlines — one kernel timer per connection, re-armed lazily.

import type { Instant } from '../../host/host_ops.js';
import { E, type Errno } from '../../kernel/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll.js';
import {
  IP_TOS, IP_TTL, IPPROTO_TCP, MSG_PEEK, SOCK_STREAM, SOL_IP, SOL_TCP, SOMAXCONN, TCP_CONGESTION, TCP_INFO, TCP_KEEPCNT,
  TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_NODELAY, TCP_QUICKACK, TCP_USER_TIMEOUT, IP_MTU,
} from '../../abi/linux/socket.js';
import type { Route } from '../interface/route.js';
import { AF_INET, inetAddr, inetArg, type SockAddr } from '../socket/sockaddr.js';
import { intOpt, Socket, type RecvInfo, type SockOptValue } from '../socket/socket.js';
import { L4_OFF } from '../stack.js';
import { IPPROTO_TCP as PROTO_TCP } from '../wire/ipv4.js';
import { emitTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpRepr } from '../wire/tcp.js';
import { RecvBuffer, SendBuffer } from './buffers.js';
import { makeCongestionControl, type CongestionControl } from './cc.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './seq.js';
import type { TcpLayer } from './tcp_layer.js';

// Linux's TCP states (include/net/tcp_states.h), as TCP_INFO reports them.
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT1 = 4;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LAST_ACK = 9;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;
export const TCP_STATE_NAMES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];

/** RFC 6298 §2: initial RTO 1 s; Linux's floor 200 ms (RFC: 1 s) and ceiling 120 s. */
const RTO_INITIAL = 1e9;
const RTO_MIN = 200e6;
const RTO_MAX = 120e9;
/** Linux's tcp_syn_retries and tcp_retries2. */
const SYN_RETRIES = 6;
const DATA_RETRIES = 15;
/** Delayed-ACK timeout (Linux's TCP_DELACK_MIN is 40 ms; RFC 9293 §3.8.6.3 allows up to 500 ms). */
const DELACK_NS = 40e6;
/** At most one ACK per this interval answers segments that fail PAWS (Linux's tcp_invalid_ratelimit). */
const OOW_ACK_INTERVAL_NS = 500e6;
/** TIME_WAIT and orphaned FIN_WAIT2 linger: Linux's TCP_TIMEWAIT_LEN and tcp_fin_timeout. */
const TIME_WAIT_NS = 60e9;
const FIN_WAIT2_NS = 60e9;
/** Keepalive defaults (Linux: 7200 s idle, 75 s interval, 9 probes). */
const KEEPIDLE_NS = 7200e9;
const KEEPINTVL_NS = 75e9;
const KEEPCNT = 9;
/** RFC 5681 §3.1 / RFC 6928: initial window of 10 segments. */
const INIT_CWND_SEGS = 10;
/** Default buffer limits: Linux's maximum autotuned sizes (tcp_wmem[2], tcp_rmem[2]). */
export const TCP_SNDBUF_DEFAULT = 4 * 1024 * 1024;
export const TCP_RCVBUF_DEFAULT = 6 * 1024 * 1024;
/** Our window scale: enough for an 8 MiB receive buffer in 16 bits (Linux picks 7 for its defaults). */
const RCV_WSCALE = 7;
/** RFC 9293 §3.7.1: the MSS assumed when the peer sends none. */
const DEFAULT_PEER_MSS = 536;
const TS_OPT_LEN = 12;
/** RFC 6675 DupThresh. */
const DUPTHRESH = 3;

/** TCP_INFO's most useful fields. */
export interface TcpInfo {
  state: number;
  stateName: string;
  rto: number;
  rtt: number;
  rttvar: number;
  snd_mss: number;
  /** The peer's segment size as received so far (an estimate that starts at 536, as Linux's). */
  rcv_mss: number;
  /** The MSS we advertised. */
  advmss: number;
  snd_cwnd: number;
  snd_ssthresh: number;
  snd_wnd: number;
  rcv_wnd: number;
  total_retrans: number;
  unacked: number;
  sacked: number;
  options: { timestamps: boolean; sack: boolean; wscale: boolean };
  snd_wscale: number;
  rcv_wscale: number;
  congestion: string;
}

export class TcpSocket extends Socket {
  readonly family = AF_INET;
  readonly type = SOCK_STREAM;
  readonly protocol = IPPROTO_TCP;
  state = TCP_CLOSE;
  localAddr = 0;
  localPort = 0;
  remoteAddr = 0;
  remotePort = 0;
  /** Bound by bind() or by connect's autobind (holds the port in the layer's table). */
  bound = false;
  /** In the layer's connection table. */
  hashed = false;

  // Send sequence space (RFC 9293 §3.3.1).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** The highest sequence number sent + 1 (SND.NXT goes back after a timeout). */
  sndMax = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** The largest window the peer ever offered (RFC 5961 §5.2's MAX.SND.WND). */
  maxSndWnd = 0;
  sndScale = 0;
  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  rcvScale = 0;
  /** Right edge of the window we advertised last (never moved left, RFC 9293 §3.8.6.2.2). */
  rcvAdvRight = 0;
  /** FIN received out of order, waiting for RCV.NXT to reach it; -1 when none. */
  private pendingFin = -1;

  // Negotiated options.
  tsOk = false;
  sackOk = false;
  wsOk = false;
  tsRecent = 0;
  /** When we last answered a segment that failed PAWS; -1 before the first (rate limit). */
  private lastOowAck = -1;
  /** MSS we announce, and the sender MSS in use (options deducted). */
  advMss = 1460;
  peerMss = DEFAULT_PEER_MSS;
  mss = DEFAULT_PEER_MSS;

  // Congestion control and loss recovery.
  cc: CongestionControl;
  cwnd = 0;
  ssthresh = 0x7fffffff;
  dupAcks = 0;
  inRecovery = false;
  /** RFC 6582/6675 "recover": SND.MAX when recovery began. */
  recover = 0;
  /** RFC 6675 HighRxt. */
  private highRxt = 0;
  /** SACK scoreboard: sorted disjoint [start, end) pairs above SND.UNA. */
  private sacked: number[] = [];
  sackedBytes = 0;
  totalRetrans = 0;

  // RTT (RFC 6298).
  srtt = 0;
  rttvar = 0;
  rto = RTO_INITIAL;
  private backoff = 0;
  private rttSeq = -1;
  private rttStart = 0;

  // Buffers.
  readonly sndBuf: SendBuffer;
  readonly rcvBuf: RecvBuffer;
  /** The application is done sending (shutdown SHUT_WR or close): FIN after the data. */
  finQueued = false;
  /** Sequence number of our FIN once sent, else -1. */
  finSeq = -1;
  /** Peer's FIN arrived (reads see end of file). */
  rcvShut = false;
  /** SHUT_RD by the application. */
  rdShut = false;
  /** The file is gone; the connection finishes on its own. */
  orphan = false;
  /** Hard error that ended the connection (reported by reads and writes). */
  private fatal: Errno | null = null;
  /** connect() in progress or finished with this result. */
  private connecting = false;

  // ACK scheduling.
  private ackPending = 0;
  /**
   * The peer's segment size as seen (Linux's rcv_mss): the largest payload received, at most
   * our advertised MSS — with timestamps a full segment carries 12 bytes less than that.
   */
  private rcvMss = 536;
  private quickAck = 0;
  nodelay = false;

  // Options.
  ttl = -1;
  tos = 0;
  keepIdle = KEEPIDLE_NS;
  keepIntvl = KEEPINTVL_NS;
  keepCnt = KEEPCNT;
  userMss = 0;
  userTimeout = 0;
  private keepProbes = 0;
  private lastRecv = 0;

  // Deadlines (ns; 0 = none) multiplexed on one kernel timer.
  private rtoAt = 0;
  private delackAt = 0;
  private persistAt = 0;
  private keepAt = 0;
  private closeAt = 0;
  private retries = 0;
  private armedAt = 0;
  private armed: { cancel(): void } | null = null;

  // Listening.
  backlog = 0;
  readonly acceptQueue: TcpSocket[] = [];
  synQueue = 0;
  parent: TcpSocket | null = null;

  private route: Route | null = null;
  private routeGen = -1;

  constructor(readonly layer: TcpLayer) {
    super(TCP_SNDBUF_DEFAULT, TCP_RCVBUF_DEFAULT);
    this.sndBuf = new SendBuffer(this.sndbuf);
    this.rcvBuf = new RecvBuffer(this.rcvbuf);
    this.cc = makeCongestionControl(layer.defaultCongestion)!;
  }

  override get listening(): boolean {
    return this.state === TCP_LISTEN;
  }

  protected override buffersChanged(): void {
    this.sndBuf.limit = this.sndbuf;
    this.rcvBuf.limit = this.rcvbuf;
  }

  protected override keepaliveChanged(): void {
    if (this.keepalive && this.state === TCP_ESTABLISHED) this.setDeadline('keep', this.lastRecv + this.keepIdle);
    if (!this.keepalive) this.keepAt = 0;
  }

  // ---- socket calls -------------------------------------------------------------------------

  override bind(addr: SockAddr, now: Instant): void {
    void now;
    const a = inetArg(addr);
    if (this.bound || this.state !== TCP_CLOSE) throw E.EINVAL;
    if (a.addr !== 0 && !this.layer.stack.isLocal(a.addr)) throw E.EADDRNOTAVAIL;
    this.layer.bind(this, a.addr, a.port);
  }

  override listen(backlog: number, now: Instant): void {
    void now;
    if (this.state !== TCP_CLOSE && this.state !== TCP_LISTEN) throw E.EINVAL;
    if (!this.bound) this.layer.bind(this, 0, 0);
    if (this.state === TCP_CLOSE) this.layer.listenConflict(this);
    this.backlog = Math.min(Math.max(backlog, 0), SOMAXCONN);
    if (this.state !== TCP_LISTEN) {
      this.state = TCP_LISTEN;
      this.layer.addListener(this);
    }
  }

  override accept(now: Instant): Socket {
    void now;
    if (this.state !== TCP_LISTEN) throw E.EINVAL;
    const c = this.acceptQueue.shift();
    if (c === undefined) throw E.EAGAIN;
    c.parent = null;
    return c;
  }

  override connect(addr: SockAddr, now: Instant): void {
    const a = inetArg(addr);
    switch (this.state) {
      case TCP_SYN_SENT:
      case TCP_SYN_RECV:
        throw E.EALREADY;
      case TCP_LISTEN:
        throw E.EISCONN;
      case TCP_CLOSE:
        break;
      default:
        throw E.EISCONN;
    }
    if (a.port === 0) throw E.ECONNREFUSED;
    const dst = a.addr === 0 ? 0x7f000001 : a.addr;
    const r = this.layer.stack.route(dst);
    if (r === null) throw E.ENETUNREACH;
    this.route = r;
    this.routeGen = this.layer.stack.routes.generation;
    if (this.localAddr === 0) {
      const src = this.layer.stack.sourceFor(r, dst);
      if (src === 0) throw E.EADDRNOTAVAIL;
      this.localAddr = src;
    }
    this.remoteAddr = dst;
    this.remotePort = a.port;
    if (!this.bound) this.layer.bindForConnect(this);
    else if (this.layer.tupleInUse(this)) throw E.EADDRNOTAVAIL;
    this.fatal = null;
    this.connecting = true;
    this.iss = this.layer.isn.isn(this.localAddr, this.localPort, this.remoteAddr, this.remotePort, now);
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.setupMss(now);
    this.state = TCP_SYN_SENT;
    this.layer.hash(this);
    this.layer.stack.stats.TcpActiveOpens++;
    this.sendSyn(now);
    throw E.EINPROGRESS;
  }

  override connectDone(): void {
    if (this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV) throw E.EAGAIN;
    if (this.fatal !== null && this.connecting) {
      const e = this.fatal;
      this.connecting = false;
      this.softError = null;
      throw e;
    }
    this.connecting = false;
    this.softError = null;
  }

  sendmsg(buf: Uint8Array, off: number, len: number, to: SockAddr | null, flags: number, now: Instant): number {
    void flags;
    if (to !== null && this.state !== TCP_CLOSE && this.state !== TCP_LISTEN) throw E.EISCONN;
    const err = this.takeError();
    if (err !== null) throw err;
    switch (this.state) {
      case TCP_SYN_SENT:
      case TCP_SYN_RECV:
        throw E.EAGAIN;
      case TCP_ESTABLISHED:
      case TCP_CLOSE_WAIT:
        break;
      case TCP_CLOSE:
      case TCP_LISTEN:
        if (this.fatal !== null || this.finSeq >= 0) throw E.EPIPE;
        throw E.ENOTCONN;
      default:
        throw E.EPIPE;
    }
    if (this.finQueued) throw E.EPIPE;
    if (len === 0) return 0;
    const n = this.sndBuf.write(buf, off, len);
    if (n === 0) throw E.EAGAIN;
    this.output(now);
    return n;
  }

  recvmsg(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null, now: Instant): number {
    if (info !== null) info.flags = 0;
    if (this.state === TCP_LISTEN) throw E.ENOTCONN;
    if (this.rcvBuf.length > 0 && !this.rdShut) {
      const before = this.windowToAdvertise();
      const n = this.rcvBuf.read(buf, off, len, (flags & MSG_PEEK) !== 0);
      if (!(flags & MSG_PEEK)) this.maybeWindowUpdate(before, now);
      return n;
    }
    const err = this.takeError();
    if (err !== null) throw err;
    if (this.rcvShut || this.rdShut) return 0;
    if (this.state === TCP_CLOSE) {
      if (this.fatal !== null || this.finSeq >= 0 || this.connecting) return 0;
      throw E.ENOTCONN;
    }
    if (len === 0) return 0;
    throw E.EAGAIN;
  }

  /** Mirrors recvmsg: nothing to read, no error, not shut down, a connected state. */
  override recvWouldBlock(): boolean {
    return this.rcvBuf.length === 0 && this.softError === null && !this.rcvShut && !this.rdShut && this.state !== TCP_LISTEN && this.state !== TCP_CLOSE;
  }

  override shutdown(how: number, now: Instant): void {
    if (how < 0 || how > 2) throw E.EINVAL;
    if (this.state === TCP_LISTEN && how !== 1) {
      this.closeListener();
      return;
    }
    if (this.state === TCP_CLOSE || this.state === TCP_SYN_SENT || this.state === TCP_LISTEN) {
      if (this.state === TCP_SYN_SENT) this.abortConnection(null, now, false);
      else throw E.ENOTCONN;
      return;
    }
    if (how !== 1) this.rdShut = true;
    if (how !== 0) this.queueFin(now);
    this.queue.notify(POLLIN | POLLOUT | POLLHUP);
  }

  getsockname(): SockAddr {
    return inetAddr(this.localAddr, this.localPort);
  }

  getpeername(): SockAddr {
    if (this.state === TCP_CLOSE || this.state === TCP_LISTEN || this.state === TCP_SYN_SENT) throw E.ENOTCONN;
    return inetAddr(this.remoteAddr, this.remotePort);
  }

  poll(): number {
    let m = 0;
    const st = this.state;
    if (st === TCP_LISTEN) return this.acceptQueue.length > 0 ? POLLIN | POLLRDNORM : 0;
    if (this.softError !== null || (this.fatal !== null && this.connecting)) m |= POLLERR;
    if (st === TCP_CLOSE) {
      // Never connected: POLLOUT|POLLHUP as Linux reports an unconnected stream socket.
      m |= POLLOUT | POLLWRNORM | POLLHUP;
      if (this.rcvBuf.length > 0 || this.rcvShut || this.fatal !== null) m |= POLLIN | POLLRDNORM | POLLRDHUP;
      return m;
    }
    if (this.rcvBuf.length > 0 || this.rcvShut || this.rdShut) m |= POLLIN | POLLRDNORM;
    if (this.rcvShut) m |= POLLRDHUP;
    if (st !== TCP_SYN_SENT && st !== TCP_SYN_RECV) {
      if (this.finQueued || st === TCP_FIN_WAIT1 || st === TCP_FIN_WAIT2 || st === TCP_CLOSING || st === TCP_LAST_ACK || st === TCP_TIME_WAIT) {
        if (this.rcvShut) m |= POLLHUP;
        m |= POLLOUT | POLLWRNORM; // a write will fail with EPIPE: not blocking
      } else if (this.sndBuf.free >= Math.min(this.sndBuf.limit / 3, 65536)) m |= POLLOUT | POLLWRNORM;
    }
    return m;
  }

  release(now: Instant): void {
    this.orphan = true;
    switch (this.state) {
      case TCP_LISTEN:
        this.closeListener();
        return;
      case TCP_CLOSE:
        this.layer.unhash(this);
        this.layer.unbind(this);
        return;
      case TCP_SYN_SENT:
        this.abortConnection(null, now, false);
        return;
    }
    // SO_LINGER with a zero timeout, or unread data, aborts with RST (RFC 9293 §3.10.4; Linux tcp_close).
    if ((this.linger.onoff && this.linger.linger === 0) || this.rcvBuf.length > 0) {
      this.sendRst(now);
      this.abortConnection(null, now, false);
      return;
    }
    this.queueFin(now);
    if (this.state === TCP_FIN_WAIT2) this.setDeadline('close', now + FIN_WAIT2_NS);
  }

  // ---- options -----------------------------------------------------------------------------

  override setsockopt(level: number, name: number, value: SockOptValue, now: Instant): void {
    if (level === SOL_TCP) {
      switch (name) {
        case TCP_NODELAY:
          this.nodelay = intOpt(value) !== 0;
          if (this.nodelay) this.output(now);
          return;
        case TCP_MAXSEG: {
          const v = intOpt(value);
          if (v !== 0 && (v < 88 || v > 65535)) throw E.EINVAL;
          this.userMss = v;
          return;
        }
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL: {
          const v = intOpt(value);
          if (v < 1 || v > 32767) throw E.EINVAL;
          if (name === TCP_KEEPIDLE) this.keepIdle = v * 1e9;
          else this.keepIntvl = v * 1e9;
          this.keepaliveChanged();
          return;
        }
        case TCP_KEEPCNT: {
          const v = intOpt(value);
          if (v < 1 || v > 127) throw E.EINVAL;
          this.keepCnt = v;
          return;
        }
        case TCP_QUICKACK:
          if (intOpt(value)) {
            this.quickAck = 16;
            if (this.ackPending > 0) this.sendAck(now);
          }
          return;
        case TCP_USER_TIMEOUT: {
          const v = intOpt(value);
          if (v < 0) throw E.EINVAL;
          this.userTimeout = v * 1e6;
          return;
        }
        case TCP_CONGESTION: {
          if (typeof value !== 'string') throw E.EINVAL;
          const cc = makeCongestionControl(value);
          if (cc === null) throw E.ENOENT;
          this.cc = cc;
          return;
        }
        default:
          throw E.ENOPROTOOPT;
      }
    }
    if (level === SOL_IP) {
      if (name === IP_TTL) {
        const v = intOpt(value);
        if (v < -1 || v === 0 || v > 255) throw E.EINVAL;
        this.ttl = v;
        return;
      }
      if (name === IP_TOS) {
        this.tos = intOpt(value) & 0xff;
        return;
      }
      throw E.ENOPROTOOPT;
    }
    super.setsockopt(level, name, value, now);
  }

  override getsockopt(level: number, name: number): SockOptValue {
    if (level === SOL_TCP) {
      switch (name) {
        case TCP_NODELAY:
          return this.nodelay ? 1 : 0;
        case TCP_MAXSEG:
          return this.state === TCP_CLOSE || this.state === TCP_LISTEN ? this.userMss || DEFAULT_PEER_MSS : this.mss;
        case TCP_KEEPIDLE:
          return this.keepIdle / 1e9;
        case TCP_KEEPINTVL:
          return this.keepIntvl / 1e9;
        case TCP_KEEPCNT:
          return this.keepCnt;
        case TCP_QUICKACK:
          return this.quickAck > 0 ? 1 : 0;
        case TCP_USER_TIMEOUT:
          return this.userTimeout / 1e6;
        case TCP_CONGESTION:
          return this.cc.name;
        case TCP_INFO:
          return this.info() as unknown as SockOptValue;
        default:
          throw E.ENOPROTOOPT;
      }
    }
    if (level === SOL_IP) {
      if (name === IP_TTL) return this.ttl < 0 ? this.layer.stack.defaultTtl : this.ttl;
      if (name === IP_TOS) return this.tos;
      if (name === IP_MTU) {
        if (this.route === null) throw E.ENOTCONN;
        return this.layer.stack.pathMtu(this.route, this.remoteAddr, this.layer.stack.now());
      }
      throw E.ENOPROTOOPT;
    }
    return super.getsockopt(level, name);
  }

  info(): TcpInfo {
    return {
      state: this.state,
      stateName: TCP_STATE_NAMES[this.state]!,
      rto: Math.round(this.rto / 1e3),
      rtt: Math.round(this.srtt / 1e3),
      rttvar: Math.round(this.rttvar / 1e3),
      snd_mss: this.mss,
      rcv_mss: this.rcvMss,
      advmss: this.advMss,
      snd_cwnd: Math.round(this.cwnd / Math.max(this.mss, 1)),
      snd_ssthresh: this.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.round(this.ssthresh / Math.max(this.mss, 1)),
      snd_wnd: this.sndWnd,
      rcv_wnd: this.windowToAdvertise(),
      total_retrans: this.totalRetrans,
      unacked: seqDiff(this.sndMax, this.sndUna),
      sacked: this.sackedBytes,
      options: { timestamps: this.tsOk, sack: this.sackOk, wscale: this.wsOk },
      snd_wscale: this.sndScale,
      rcv_wscale: this.rcvScale,
      congestion: this.cc.name,
    };
  }

  // ---- connection setup ----------------------------------------------------------------------

  /** Our advertised MSS from the path MTU, and the initial sender MSS. */
  private setupMss(now: Instant): void {
    const r = this.currentRoute();
    const mtu = r === null ? 576 : this.layer.stack.pathMtu(r, this.remoteAddr, now);
    this.advMss = Math.max(88, mtu - 40);
    if (this.userMss) this.advMss = Math.min(this.advMss, this.userMss);
    this.mss = Math.min(this.advMss, DEFAULT_PEER_MSS);
  }

  /** The sender MSS after the handshake: the peer's MSS and our path MTU, minus options. */
  updateMss(now: Instant): void {
    const r = this.currentRoute();
    const mtu = r === null ? 576 : this.layer.stack.pathMtu(r, this.remoteAddr, now);
    let m = Math.min(this.peerMss, mtu - 40);
    if (this.userMss) m = Math.min(m, this.userMss);
    if (this.tsOk) m -= TS_OPT_LEN;
    this.mss = Math.max(m, 64);
  }

  /** A child of listener `l` for a SYN from raddr:rport (called by the layer). */
  initFromSyn(l: TcpSocket, seg: TcpRepr, laddr: number, raddr: number, now: Instant): void {
    this.parent = l;
    this.localAddr = laddr;
    this.localPort = l.localPort;
    this.remoteAddr = raddr;
    this.remotePort = seg.srcPort;
    this.sndbuf = l.sndbuf;
    this.rcvbuf = l.rcvbuf;
    this.buffersChanged();
    this.nodelay = l.nodelay;
    this.keepalive = l.keepalive;
    this.keepIdle = l.keepIdle;
    this.keepIntvl = l.keepIntvl;
    this.keepCnt = l.keepCnt;
    this.linger = { ...l.linger };
    this.userMss = l.userMss;
    this.cc = makeCongestionControl(l.cc.name)!;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.negotiate(seg);
    this.iss = this.layer.isn.isn(laddr, this.localPort, raddr, this.remotePort, now);
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndWnd = seg.window; // unscaled in a SYN (RFC 7323 §2.2)
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    this.maxSndWnd = this.sndWnd;
    this.state = TCP_SYN_RECV;
    this.setupMss(now);
    this.updateMss(now);
    this.lastRecv = now;
  }

  /** Options from the peer's SYN (RFC 7323 §2.2, §3.2; RFC 2018 §2; RFC 9293 §3.7.1). */
  private negotiate(seg: TcpRepr): void {
    // An option is on only when both ends offered it (in SYN_SENT we offered what the layer allows).
    const l = this.layer;
    this.peerMss = seg.mss || DEFAULT_PEER_MSS;
    this.wsOk = seg.wscale >= 0 && l.windowScaling;
    this.sndScale = this.wsOk ? seg.wscale : 0;
    this.rcvScale = this.wsOk ? RCV_WSCALE : 0;
    this.tsOk = seg.tsPresent && l.timestamps;
    if (this.tsOk) this.tsRecent = seg.tsVal;
    this.sackOk = seg.sackPermitted && l.sack;
    // The window our SYN (or SYN-ACK) offered, unscaled (RFC 7323 §2.2).
    this.rcvAdvRight = this.rcvNxt;
    this.rcvAdvRight = seqAdd(this.rcvNxt, Math.min(this.windowToAdvertise(), 65535));
  }

  sendSyn(now: Instant): void {
    const synAck = this.state === TCP_SYN_RECV;
    if (this.retries === 0) {
      // Time the handshake (RFC 6298 §2 allows the SYN as the first sample; Karn on retransmit).
      this.rttSeq = this.iss;
      this.rttStart = now;
    }
    const t = this.layer.tx;
    t.resetOptions();
    t.mss = this.advMss;
    // On a SYN-ACK, offer only what the peer offered.
    const l = this.layer;
    if (l.windowScaling && (!synAck || this.wsOk)) t.wscale = RCV_WSCALE;
    if (l.sack && (!synAck || this.sackOk)) t.sackPermitted = true;
    if (l.timestamps && (!synAck || this.tsOk)) {
      t.tsPresent = true;
      t.tsVal = this.layer.tsClock(now);
      t.tsEcr = synAck ? this.tsRecent : 0;
    }
    this.emit(this.iss, synAck ? TCP_SYN | TCP_ACK : TCP_SYN, 0, Math.min(this.windowToAdvertise(), 65535), now);
    if (seqLt(this.sndMax, seqAdd(this.iss, 1))) this.sndMax = seqAdd(this.iss, 1);
    this.sndNxt = seqAdd(this.iss, 1);
    this.setDeadline('rto', now + this.rto);
  }

  // ---- input ---------------------------------------------------------------------------------

  /** A segment for this connection (not LISTEN): RFC 9293 §3.10.7.3 and §3.10.7.4. */
  segmentArrived(seg: TcpRepr, buf: Uint8Array, dataOff: number, dataLen: number, now: Instant): void {
    if (this.state === TCP_SYN_SENT) {
      this.synSentArrived(seg, buf, dataOff, dataLen, now);
      return;
    }
    const stats = this.layer.stack.stats;
    const flags = seg.flags;
    let seq = seg.seq;
    this.lastRecv = now;
    this.keepProbes = 0;

    // A retransmitted SYN while our SYN-ACK is outstanding: answer it again.
    if (this.state === TCP_SYN_RECV && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && seq === this.irs) {
      this.sendSyn(now);
      return;
    }

    // PAWS (RFC 7323 §5.3 R1): an old timestamp marks an old duplicate. RSTs are acceptable
    // whatever their timestamp (§5.3 R1 note); a reordered duplicate ACK is let through.
    if (this.tsOk && seg.tsPresent && !(flags & TCP_RST) && seqLt(seg.tsVal, this.tsRecent) && !this.disorderedAck(seg, dataLen)) {
      stats.TcpExtPAWSEstab++;
      this.oowAck(now);
      return;
    }

    // 1. Sequence acceptability (§3.10.7.4 first check).
    const segLen = dataLen + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
    const wnd = this.currentRcvWindow();
    if (!this.acceptable(seq, segLen, wnd)) {
      if (!(flags & TCP_RST)) this.sendAck(now);
      return;
    }

    // 2. RST (RFC 5961 §3.2): exact match resets, anything else in the window is challenged.
    if (flags & TCP_RST) {
      if (seq !== this.rcvNxt) {
        this.challengeAck(now);
        return;
      }
      this.resetArrived(now);
      return;
    }

    // 3. SYN in a synchronized state (RFC 5961 §4.2): challenge ACK, never reset.
    if (flags & TCP_SYN) {
      if (this.state === TCP_TIME_WAIT) {
        this.sendAck(now);
        return;
      }
      this.challengeAck(now);
      return;
    }

    // 4. Without ACK, drop.
    if (!(flags & TCP_ACK)) return;
    const ack = seg.ack;

    // 5. ACK processing.
    if (this.state === TCP_SYN_RECV) {
      const p = this.parent;
      if (p !== null && p.state === TCP_LISTEN && p.acceptQueue.length > p.backlog) {
        // Accept queue full: ignore the ACK and keep the half-open connection; our SYN-ACK
        // retransmission makes the client ACK again later (Linux without tcp_abort_on_overflow).
        stats.TcpExtListenOverflows++;
        return;
      }
      if (seqGt(ack, this.sndUna) && seqLe(ack, this.sndMax)) {
        // The SYN's sequence number is acknowledged; what remains is data (or our FIN).
        this.sndUna = seqAdd(this.iss, 1);
        this.rttSample(now);
        this.sndWnd = seg.window << this.sndScale;
        this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
        this.sndWl1 = seq;
        this.sndWl2 = ack;
        this.established(now);
      } else {
        this.emitRst(ack, 0, TCP_RST, now);
        return;
      }
    }
    // RFC 5961 §5.2: an ACK too old or beyond what we sent.
    if (seqGt(ack, this.sndMax)) {
      this.sendAck(now);
      return;
    }
    if (seqLt(ack, this.sndUna - Math.max(this.maxSndWnd, 1)) ) {
      this.challengeAck(now);
      return;
    }
    // TS.Recent only moves forward (RFC 7323 §4.3 (2)): a disordered ACK leaves it alone.
    if (this.tsOk && seg.tsPresent && seqLe(seq, this.rcvNxt) && seqGe(seg.tsVal, this.tsRecent)) this.tsRecent = seg.tsVal;
    this.ackArrived(seg, ack, dataLen, now);
    if (this.state === TCP_CLOSE) return;

    // 7. Segment text (only in states that still receive).
    const st = this.state;
    if (dataLen > 0) {
      if (st === TCP_ESTABLISHED || st === TCP_FIN_WAIT1 || st === TCP_FIN_WAIT2) {
        if (this.orphan || this.rdShut && this.orphan) {
          // Data for a closed socket: RFC 9293 §3.10.7.4 — reset (Linux sends RST too).
          this.sendRst(now);
          this.abortConnection(null, now, false);
          return;
        }
        // Trim what we already have.
        let off = dataOff;
        let len = dataLen;
        const dup = seqDiff(this.rcvNxt, seq);
        if (dup > 0) {
          off += dup;
          len -= dup;
          seq = this.rcvNxt;
        }
        this.dataArrived(seq, buf, off, len, now);
      } else if (!(flags & TCP_FIN)) {
        // After the peer's FIN no data may arrive: acknowledge what we have.
        this.sendAck(now);
      }
    }

    // 8. FIN.
    if (flags & TCP_FIN) {
      const finSeq = seqAdd(seg.seq, dataLen);
      if (finSeq === this.rcvNxt) this.finArrived(now);
      else if (seqGt(finSeq, this.rcvNxt)) {
        this.pendingFin = finSeq;
        this.sendAck(now);
      } else this.sendAck(now);
    }
    if (this.ackPending > 0 && this.state !== TCP_CLOSE) this.scheduleAck(now);
  }

  private synSentArrived(seg: TcpRepr, buf: Uint8Array, dataOff: number, dataLen: number, now: Instant): void {
    void buf;
    void dataOff;
    void dataLen;
    const flags = seg.flags;
    if (flags & TCP_ACK) {
      if (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax)) {
        if (!(flags & TCP_RST)) this.emitRst(seg.ack, 0, TCP_RST, now);
        return;
      }
    }
    if (flags & TCP_RST) {
      // RFC 9293: acceptable only with an acceptable ACK; RFC 5961 §3.2 matters only when synchronized.
      if (flags & TCP_ACK) this.abortConnection(E.ECONNREFUSED, now, true);
      return;
    }
    if (!(flags & TCP_SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.negotiate(seg);
    this.updateMss(now);
    this.lastRecv = now;
    if (flags & TCP_ACK) {
      this.sndUna = seg.ack;
      // The window of a SYN-ACK is never scaled (RFC 7323 §2.2).
      this.sndWnd = seg.window;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.rttSample(now);
      this.established(now);
      this.sendAck(now);
      this.output(now);
    } else {
      // Simultaneous open (§3.5, Figure 8): SYN_RECEIVED, answer with SYN-ACK.
      this.state = TCP_SYN_RECV;
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sendSyn(now);
    }
  }

  /** The handshake completed. */
  private established(now: Instant): void {
    this.state = TCP_ESTABLISHED;
    this.retries = 0;
    this.backoff = 0;
    this.rtoAt = 0;
    this.sndNxt = seqMax(this.sndNxt, this.sndUna);
    this.cwnd = INIT_CWND_SEGS * this.mss;
    this.recover = this.sndUna;
    this.highRxt = this.sndUna;
    if (this.keepalive) this.setDeadline('keep', now + this.keepIdle);
    const p = this.parent;
    if (p !== null) {
      p.synQueue--;
      if (p.state === TCP_LISTEN) {
        this.layer.stack.stats.TcpPassiveOpens++;
        p.acceptQueue.push(this);
        p.queue.notify(POLLIN | POLLRDNORM);
      } else {
        this.layer.stack.stats.TcpExtListenOverflows++;
        this.sendRst(now);
        this.abortConnection(null, now, false);
        return;
      }
    }
    this.queue.notify(POLLOUT | POLLWRNORM | POLLIN);
  }

  private acceptable(seq: number, segLen: number, wnd: number): boolean {
    const nxt = this.rcvNxt;
    if (segLen === 0) {
      if (wnd === 0) return seq === nxt;
      return seqLe(nxt, seq) && seqLt(seq, seqAdd(nxt, wnd)) || seq === nxt;
    }
    if (wnd === 0) return false;
    const end = seqAdd(seq, segLen - 1);
    const right = seqAdd(nxt, wnd);
    return (seqLe(nxt, seq) && seqLt(seq, right)) || (seqLe(nxt, end) && seqLt(end, right));
  }

  /**
   * Whether a segment that fails PAWS is only a reordered duplicate ACK, which carries SACK
   * information and cannot harm the byte stream: no data and no SYN/FIN/RST, SEG.SEQ =
   * RCV.NXT, SEG.ACK = SND.UNA, no window change, and a TSval behind TS.Recent by at most
   * one RTO's worth of timestamp ticks (milliseconds) — an older one is a real old duplicate.
   * Linux makes the same exception ("disordered ACK").
   */
  private disorderedAck(seg: TcpRepr, dataLen: number): boolean {
    if (dataLen !== 0 || (seg.flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) !== TCP_ACK) return false;
    if (seg.seq !== this.rcvNxt || seg.ack !== this.sndUna) return false;
    const mayUpdate = seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack));
    if (mayUpdate && (seg.window << this.sndScale) !== this.sndWnd) return false;
    return seqDiff(this.tsRecent, seg.tsVal) <= Math.ceil(this.rto / 1e6);
  }

  /** The ACK that answers a segment failing PAWS, at most one per OOW_ACK_INTERVAL_NS. */
  private oowAck(now: Instant): void {
    if (this.lastOowAck >= 0 && now - this.lastOowAck < OOW_ACK_INTERVAL_NS) {
      this.layer.stack.stats.TcpExtTCPACKSkippedPAWS++;
      return;
    }
    this.lastOowAck = now;
    this.sendAck(now);
  }

  private challengeAck(now: Instant): void {
    // RFC 5961 §7: rate-limited (Linux's tcp_challenge_ack_limit, 1000 per second).
    if (!this.layer.challengeAllowed(now)) return;
    this.layer.stack.stats.TcpExtTCPChallengeACK++;
    this.sendAck(now);
  }

  private resetArrived(now: Instant): void {
    const st = this.state;
    if (st === TCP_SYN_RECV && this.parent !== null) {
      // A passive open goes away quietly (RFC 9293 §3.10.7.4).
      this.abortConnection(null, now, false);
      return;
    }
    if (st === TCP_CLOSING || st === TCP_LAST_ACK || st === TCP_TIME_WAIT) {
      this.abortConnection(null, now, false);
      return;
    }
    this.layer.stack.stats.TcpEstabResets++;
    this.abortConnection(st === TCP_SYN_RECV ? E.ECONNREFUSED : st === TCP_CLOSE_WAIT ? E.EPIPE : E.ECONNRESET, now, true);
  }

  /** ACK field processing (RFC 9293 §3.10.7.4 fifth check, RFC 6675, RFC 6582). */
  private ackArrived(seg: TcpRepr, ack: number, dataLen: number, now: Instant): void {
    const acked = seqDiff(ack, this.sndUna);
    const flightBefore = seqDiff(this.sndMax, this.sndUna);
    // Window update (RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 rule).
    const oldWnd = this.sndWnd;
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = seg.window << this.sndScale;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
    }
    if (this.sackOk && seg.sackCount > 0) this.updateScoreboard(seg, ack);

    if (acked > 0) {
      this.newAck(ack, acked, flightBefore, now);
    } else if (acked === 0 && dataLen === 0 && !(seg.flags & (TCP_SYN | TCP_FIN)) && flightBefore > 0 && this.sndWnd === oldWnd) {
      // A duplicate ACK (RFC 5681 §2 definition).
      this.dupAcks++;
      this.dupAckArrived(now);
    }
    if (this.sndWnd > 0 && this.persistAt !== 0) {
      this.persistAt = 0;
      this.backoff = 0;
    }
    if (this.sndWnd > oldWnd || acked > 0) this.output(now);
    else if (this.sndWnd === 0 && this.sndBuf.length > seqDiff(this.sndNxt, this.sndUna) && this.rtoAt === 0) this.armPersist(now);
  }

  private newAck(ack: number, acked: number, flightBefore: number, now: Instant): void {
    const finAcked = this.finSeq >= 0 && seqGt(ack, this.finSeq);
    // Data bytes acknowledged (SYN and FIN occupy sequence space, not buffer space).
    let dataAcked = acked;
    if (finAcked) dataAcked--;
    this.sndBuf.ack(Math.max(0, dataAcked));
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    this.trimScoreboard();
    if (seqGt(ack, this.highRxt)) this.highRxt = ack;
    this.retries = 0;
    this.backoff = 0;
    this.rttSample(now);

    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        // Full acknowledgment: leave recovery (RFC 6582 §3.2 step 3; RFC 6675 §5).
        this.inRecovery = false;
        this.dupAcks = 0;
        const flight = seqDiff(this.sndMax, this.sndUna);
        this.cwnd = this.sackOk ? this.ssthresh : Math.max(Math.min(this.ssthresh, flight + this.mss), 2 * this.mss);
      } else if (!this.sackOk) {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): retransmit the next hole, deflate.
        this.retransmitFirst(now);
        this.cwnd = Math.max(this.cwnd - acked + this.mss, this.mss);
        this.setDeadline('rto', now + this.rto, true);
      }
    } else {
      this.dupAcks = 0;
      // Grow only when the window was in use (RFC 7661's idea, simplified).
      if (flightBefore + this.mss * 2 >= this.cwnd / 2) this.cc.onAck(this, dataAcked, now);
    }
    if (this.cwnd > 0x40000000) this.cwnd = 0x40000000;

    // Retransmission timer (RFC 6298 §5.2, §5.3).
    if (this.sndUna === this.sndMax) this.rtoAt = 0;
    else this.setDeadline('rto', now + this.rto, true);

    if (this.sndBuf.free > 0) this.queue.notify(POLLOUT | POLLWRNORM);
    if (finAcked) this.ourFinAcked(now);
  }

  private dupAckArrived(now: Instant): void {
    if (this.inRecovery) {
      if (!this.sackOk) this.cwnd += this.mss; // RFC 6582 step 4 (inflation)
      this.output(now);
      return;
    }
    const lost = this.sackOk && this.isLost(this.sndUna);
    if (this.dupAcks < DUPTHRESH && !lost) {
      // RFC 3042 limited transmit: new data on the first two duplicate ACKs.
      if (this.dupAcks <= 2) this.output(now, this.dupAcks * this.mss);
      return;
    }
    // RFC 6582 §3.2 step 2: no new recovery until the previous one's data is acknowledged.
    if (!this.sackOk && seqLt(this.sndUna, this.recover)) return;
    this.enterRecovery(now);
  }

  private enterRecovery(now: Instant): void {
    const s = this.layer.stack.stats;
    const flight = seqDiff(this.sndMax, this.sndUna);
    this.ssthresh = this.cc.onLoss(this, flight, now);
    this.inRecovery = true;
    this.recover = this.sndMax;
    this.highRxt = this.sndUna;
    s.TcpExtTCPFastRetrans++;
    if (this.sackOk) {
      s.TcpExtTCPSACKRecovery++;
      this.cwnd = this.ssthresh;
      // RFC 6675 §5 step 4.3: retransmit the first segment, then NextSeg while pipe < cwnd.
      this.retransmitFirst(now);
      this.output(now);
    } else {
      s.TcpExtTCPRenoRecovery++;
      this.retransmitFirst(now);
      this.cwnd = this.ssthresh + DUPTHRESH * this.mss;
    }
  }

  private retransmitFirst(now: Instant): void {
    const len = Math.min(this.mss, this.unsackedRunAt(this.sndUna));
    if (len <= 0) {
      if (this.finSeq >= 0 && this.sndUna === this.finSeq) this.emitData(this.sndUna, 0, true, now);
      return;
    }
    const fin = this.finSeq >= 0 && seqAdd(this.sndUna, len) === this.finSeq;
    this.emitData(this.sndUna, len, fin, now);
    if (seqGt(seqAdd(this.sndUna, len), this.highRxt)) this.highRxt = seqAdd(this.sndUna, len);
    this.countRetrans();
    this.rttSeq = -1;
  }

  private countRetrans(): void {
    this.totalRetrans++;
    this.layer.stack.stats.TcpRetransSegs++;
  }

  /** Bytes from `seq` up to the next SACKed block or the end of what was sent. */
  private unsackedRunAt(seq: number): number {
    let end = this.sndMax;
    if (this.finSeq >= 0 && seqGe(end, this.finSeq)) end = this.finSeq;
    for (let i = 0; i < this.sacked.length; i += 2) {
      if (seqGt(this.sacked[i]!, seq)) {
        if (seqLt(this.sacked[i]!, end)) end = this.sacked[i]!;
        break;
      }
    }
    return Math.max(0, seqDiff(end, seq));
  }

  // ---- SACK scoreboard (RFC 6675 §4) ----------------------------------------------------------

  private updateScoreboard(seg: TcpRepr, ack: number): void {
    for (let i = 0; i < seg.sackCount; i++) {
      let a = seg.sack[2 * i]!;
      const b = seg.sack[2 * i + 1]!;
      // Ignore D-SACKs and blocks outside what we sent (RFC 2883, RFC 2018 §5).
      if (!seqLt(a, b) || seqGt(b, this.sndMax) || seqLe(b, ack)) continue;
      if (seqLt(a, ack)) a = ack;
      this.addSacked(a, b);
    }
  }

  private addSacked(a: number, b: number): void {
    const s = this.sacked;
    let i = 0;
    while (i < s.length && seqLt(s[i + 1]!, a)) i += 2;
    let start = a;
    let end = b;
    let j = i;
    while (j < s.length && seqLe(s[j]!, end)) {
      if (seqLt(s[j]!, start)) start = s[j]!;
      if (seqGt(s[j + 1]!, end)) end = s[j + 1]!;
      j += 2;
    }
    s.splice(i, j - i, start, end);
    this.recountSacked();
  }

  private trimScoreboard(): void {
    const s = this.sacked;
    if (s.length === 0) return;
    let i = 0;
    while (i < s.length && seqLe(s[i + 1]!, this.sndUna)) i += 2;
    if (i > 0) s.splice(0, i);
    if (s.length > 0 && seqLt(s[0]!, this.sndUna)) s[0] = this.sndUna;
    this.recountSacked();
  }

  private recountSacked(): void {
    let n = 0;
    for (let i = 0; i < this.sacked.length; i += 2) n += seqDiff(this.sacked[i + 1]!, this.sacked[i]!);
    this.sackedBytes = n;
  }

  /**
   * RFC 6675 §4 IsLost: DupThresh discontiguous SACKed runs, or more than (DupThresh−1)·SMSS
   * SACKed bytes, above `seq`. Returned as the boundary below which everything unSACKed is lost.
   */
  private lostBoundary(): number {
    const s = this.sacked;
    let bytes = 0;
    let blocks = 0;
    for (let i = s.length - 2; i >= 0; i -= 2) {
      bytes += seqDiff(s[i + 1]!, s[i]!);
      blocks++;
      if (blocks >= DUPTHRESH || bytes > (DUPTHRESH - 1) * this.mss) return s[i]!;
    }
    return this.sndUna;
  }

  private isLost(seq: number): boolean {
    return seqLt(seq, this.lostBoundary());
  }

  /** RFC 6675 §4 SetPipe: octets in flight by the scoreboard. */
  private pipe(): number {
    const lost = this.lostBoundary();
    let pipe = 0;
    let at = this.sndUna;
    const s = this.sacked;
    for (let i = 0; i <= s.length; i += 2) {
      const holeEnd = i < s.length ? s[i]! : this.sndMax;
      if (seqLt(at, holeEnd)) {
        // [at, holeEnd) is unSACKed: not-lost bytes count, and lost bytes once retransmitted.
        const lostEnd = seqLt(lost, holeEnd) ? (seqGt(lost, at) ? lost : at) : holeEnd;
        pipe += seqDiff(holeEnd, lostEnd);
        const rxEnd = seqLt(this.highRxt, lostEnd) ? this.highRxt : lostEnd;
        if (seqGt(rxEnd, at)) pipe += seqDiff(rxEnd, at);
      }
      if (i < s.length) at = s[i + 1]!;
    }
    return pipe;
  }

  /** RFC 6675 §4 NextSeg rule 1: the first lost, unSACKed, unretransmitted byte, and its run. */
  private nextLostSeg(): { seq: number; len: number } | null {
    const lost = this.lostBoundary();
    let at = seqGt(this.highRxt, this.sndUna) ? this.highRxt : this.sndUna;
    if (!seqLt(at, lost)) return null;
    const s = this.sacked;
    for (let i = 0; i < s.length; i += 2) {
      if (seqLe(s[i + 1]!, at)) continue;
      if (seqLe(s[i]!, at)) {
        at = s[i + 1]!;
        continue;
      }
      // [at, s[i]) is a hole.
      if (!seqLt(at, lost)) return null;
      const end = seqLt(s[i]!, lost) ? s[i]! : lost;
      return { seq: at, len: Math.min(this.mss, seqDiff(end, at)) };
    }
    return null;
  }

  // ---- receiving data -------------------------------------------------------------------------

  private dataArrived(seq: number, buf: Uint8Array, off: number, len: number, now: Instant): void {
    const stats = this.layer.stack.stats;
    // Keep to the window we offered (RFC 9293 §3.10.7.4: trim what lies beyond it).
    const room = seqDiff(this.rcvAdvRight, seq);
    if (len > room) {
      stats.TcpExtTCPRcvQDrop++;
      len = Math.max(0, room);
    }
    if (len <= 0) {
      this.sendAck(now);
      return;
    }
    if (seq === this.rcvNxt) {
      this.rcvBuf.pushFrame(buf, off, len);
      this.rcvNxt = seqAdd(this.rcvNxt, len);
      const hadOoo = this.rcvBuf.ooo.length > 0;
      if (hadOoo) this.rcvNxt = this.rcvBuf.drainOoo(this.rcvNxt);
      if (this.pendingFin >= 0 && this.rcvNxt === this.pendingFin) {
        this.pendingFin = -1;
        this.finArrived(now);
      }
      this.queue.notify(POLLIN | POLLRDNORM);
      // A segment that fills a hole is acknowledged at once (RFC 5681 §4.2).
      if (hadOoo || this.quickAck > 0) {
        if (this.quickAck > 0) this.quickAck--;
        this.sendAck(now);
      } else {
        // At least every second full-sized segment is acknowledged at once (RFC 9293
        // §3.8.6.3): more than one segment's worth pending, judged by the segments received.
        if (len > this.rcvMss) this.rcvMss = Math.min(len, this.advMss);
        this.ackPending += len;
        if (this.ackPending > this.rcvMss) this.sendAck(now);
      }
    } else {
      // Out of order: keep it (within the window) and send a duplicate ACK with SACK now.
      if (this.rcvBuf.oooBytes + len <= this.rcvbuf) {
        if (this.rcvBuf.insertOoo(seq, buf, off, len)) stats.TcpExtTCPOFOQueue++;
      } else stats.TcpExtTCPOFODrop++;
      this.sendAck(now);
    }
  }

  private finArrived(now: Instant): void {
    if (this.rcvShut) {
      // A retransmitted FIN: acknowledge again; in TIME_WAIT restart the 2 MSL wait (§3.10.7.4).
      if (this.state === TCP_TIME_WAIT) this.setDeadline('close', now + TIME_WAIT_NS, true);
      this.sendAck(now);
      return;
    }
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.rcvShut = true;
    switch (this.state) {
      case TCP_SYN_RECV:
      case TCP_ESTABLISHED:
        this.state = TCP_CLOSE_WAIT;
        break;
      case TCP_FIN_WAIT1:
        // Simultaneous close (§3.6, Figure 13) unless our FIN was acknowledged with this segment.
        this.state = TCP_CLOSING;
        break;
      case TCP_FIN_WAIT2:
        this.enterTimeWait(now);
        break;
    }
    this.sendAck(now);
    this.queue.notify(POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP);
  }

  private ourFinAcked(now: Instant): void {
    switch (this.state) {
      case TCP_FIN_WAIT1:
        this.state = TCP_FIN_WAIT2;
        if (this.orphan) this.setDeadline('close', now + FIN_WAIT2_NS);
        break;
      case TCP_CLOSING:
        this.enterTimeWait(now);
        break;
      case TCP_LAST_ACK:
        this.closeDone();
        break;
    }
    this.queue.notify(POLLOUT | POLLHUP);
  }

  private enterTimeWait(now: Instant): void {
    this.state = TCP_TIME_WAIT;
    this.layer.stack.stats.TcpExtTW++;
    this.rtoAt = 0;
    this.persistAt = 0;
    this.keepAt = 0;
    this.delackAt = 0;
    this.setDeadline('close', now + TIME_WAIT_NS, true);
  }

  private closeDone(): void {
    this.state = TCP_CLOSE;
    this.clearTimers();
    this.layer.unhash(this);
    if (this.orphan) this.layer.unbind(this);
    this.queue.notify(POLLIN | POLLOUT | POLLHUP);
  }

  /** Ends the connection: `err` for the application (null: none), RST already sent if needed. */
  abortConnection(err: Errno | null, now: Instant, report: boolean): void {
    void now;
    const wasSynRecv = this.state === TCP_SYN_RECV;
    if (this.state === TCP_SYN_SENT) this.layer.stack.stats.TcpAttemptFails++;
    if (wasSynRecv && this.parent !== null) this.parent.synQueue--;
    this.state = TCP_CLOSE;
    this.clearTimers();
    this.layer.unhash(this);
    if (this.orphan || (wasSynRecv && this.parent !== null)) this.layer.unbind(this);
    this.sndBuf.ack(this.sndBuf.length);
    if (err !== null) {
      this.fatal = err;
      if (report) this.softError = err;
    } else if (this.fatal === null) this.fatal = E.ECONNRESET;
    this.queue.notify(POLLIN | POLLOUT | POLLERR | POLLHUP);
  }

  private queueFin(now: Instant): void {
    if (this.finQueued) return;
    this.finQueued = true;
    switch (this.state) {
      case TCP_SYN_RECV:
      case TCP_ESTABLISHED:
        this.state = TCP_FIN_WAIT1;
        break;
      case TCP_CLOSE_WAIT:
        this.state = TCP_LAST_ACK;
        break;
      default:
        return;
    }
    this.output(now);
  }

  private closeListener(): void {
    this.state = TCP_CLOSE;
    this.layer.removeListener(this);
    const now = this.layer.stack.now();
    for (const c of this.acceptQueue.splice(0)) {
      c.orphan = true;
      c.sendRst(now);
      c.abortConnection(null, now, false);
    }
    this.layer.unbind(this);
    this.queue.notify(POLLIN | POLLHUP);
  }

  // ---- output ----------------------------------------------------------------------------------

  /** The receive window to offer now (bytes), never shrinking the right edge we offered. */
  windowToAdvertise(): number {
    let w = this.rcvBuf.free;
    const max = 65535 << this.rcvScale;
    if (w > max) w = max;
    const kept = seqDiff(this.rcvAdvRight, this.rcvNxt);
    if (kept > w) w = kept;
    // Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): no tiny windows.
    if (w < Math.min(this.rcvbuf / 2, this.advMss) && kept <= 0) w = 0;
    return w;
  }

  private currentRcvWindow(): number {
    return Math.max(0, seqDiff(this.rcvAdvRight, this.rcvNxt));
  }

  private maybeWindowUpdate(before: number, now: Instant): void {
    if (this.state !== TCP_ESTABLISHED && this.state !== TCP_FIN_WAIT1 && this.state !== TCP_FIN_WAIT2) return;
    const after = this.windowToAdvertise();
    // Announce once the window grew by two segments or half the buffer (Linux's __tcp_cleanup_rbuf).
    if (after - before >= Math.min(2 * this.advMss, this.rcvbuf / 2) || (before === 0 && after > 0)) this.sendAck(now);
  }

  private scheduleAck(now: Instant): void {
    if (this.delackAt === 0) this.setDeadline('delack', now + DELACK_NS);
  }

  sendAck(now: Instant): void {
    this.emit(this.sndNxt, TCP_ACK, 0, -1, now);
  }

  /** RST for this connection (abort): SEQ = SND.NXT. */
  sendRst(now: Instant): void {
    if (this.state === TCP_CLOSE || this.state === TCP_LISTEN || this.state === TCP_SYN_SENT) return;
    this.layer.stack.stats.TcpOutRsts++;
    this.emit(this.sndNxt, TCP_RST | TCP_ACK, 0, 0, now);
  }

  private emitRst(seq: number, ack: number, flags: number, now: Instant): void {
    this.layer.sendReset(this.localAddr, this.localPort, this.remoteAddr, this.remotePort, seq, ack, flags, now);
  }

  /** Segments new data and retransmissions within the windows (RFC 9293 §3.8.6, RFC 6675 §5). */
  output(now: Instant, extra = 0): void {
    const st = this.state;
    if (st !== TCP_ESTABLISHED && st !== TCP_CLOSE_WAIT && st !== TCP_FIN_WAIT1 && st !== TCP_LAST_ACK && st !== TCP_CLOSING) return;
    const mss = this.mss;
    if (this.inRecovery && this.sackOk) {
      let pipe = this.pipe();
      while (pipe < this.cwnd) {
        const seg = this.nextLostSeg();
        if (seg !== null) {
          const fin = this.finSeq >= 0 && seqAdd(seg.seq, seg.len) === this.finSeq;
          this.emitData(seg.seq, seg.len, fin, now);
          this.highRxt = seqAdd(seg.seq, seg.len);
          this.countRetrans();
          pipe += seg.len;
          continue;
        }
        const n = this.sendNew(now, mss, true);
        if (n <= 0) break;
        pipe += n;
      }
      return;
    }
    const segMax = this.segMax(now);
    for (;;) {
      const flight = seqDiff(this.sndNxt, this.sndUna);
      const cwndLeft = this.cwnd + extra - flight;
      if (cwndLeft <= 0 && !(this.finQueued && this.finSeq < 0 && this.allDataSent())) break;
      const n = this.sendNew(now, Math.min(segMax, Math.max(cwndLeft, 0)), false);
      if (n <= 0) break;
    }
  }

  /**
   * The largest new segment to build: the MSS, or on a device with segmentation offload a
   * multiple of it that fits the device's limit with the largest headers (IP 20 + TCP 60).
   * Congestion control still counts bytes; only the number of segments built changes. Only
   * while the MSS is the one the MTU allows (not a smaller peer MSS or TCP_MAXSEG): a device
   * that segments (a TAP) cuts the frame at the MTU with its headers, knowing nothing else.
   */
  private segMax(now: Instant): number {
    const r = this.currentRoute();
    if (r === null) return this.mss;
    const gso = r.iface.gsoMax;
    if (gso === 0 || this.layer.stack.pathMtu(r, this.remoteAddr, now) !== r.iface.mtu) return this.mss;
    if (this.mss !== r.iface.mtu - 40 - (this.tsOk ? TS_OPT_LEN : 0)) return this.mss;
    return Math.max(this.mss, Math.floor((gso - 80) / this.mss) * this.mss);
  }

  private allDataSent(): boolean {
    return seqDiff(this.sndNxt, this.sndUna) >= this.sndBuf.length;
  }

  /**
   * Sends one segment from SND.NXT of at most `max` bytes if the peer's window, Nagle and
   * SWS avoidance allow; returns the sequence space used (0: nothing sent).
   */
  private sendNew(now: Instant, max: number, recovery: boolean): number {
    // After a timeout, SND.NXT walks forward again over data the scoreboard shows as received.
    let seq = this.sndNxt;
    if (!recovery && seqLt(seq, this.sndMax)) {
      for (let i = 0; i < this.sacked.length; i += 2) {
        if (seqLe(this.sacked[i]!, seq) && seqLt(seq, this.sacked[i + 1]!)) {
          seq = this.sacked[i + 1]!;
          this.sndNxt = seq;
        }
      }
    }
    const offset = seqDiff(seq, this.sndUna);
    const avail = this.sndBuf.length - offset;
    // Past the data: only our FIN lies there, and it is already out.
    if (avail < 0) return 0;
    const wndLeft = this.sndWnd - offset;
    // `max` is at most the MSS, or a multiple of it under segmentation offload (segMax).
    let len = Math.min(max, avail, wndLeft);
    if (len < 0) len = 0;
    const finNow = this.finQueued && len === avail && (this.finSeq < 0 || this.finSeq === seqAdd(seq, len));
    if (len === 0 && !finNow) {
      // Data waits on a closed window with nothing in flight: probe it (§3.8.6.1).
      if (avail > 0 && wndLeft <= 0 && this.rtoAt === 0 && seqDiff(this.sndMax, this.sndUna) === 0) this.armPersist(now);
      return 0;
    }
    if (len > 0 && len < this.mss && !finNow) {
      const inFlight = seqDiff(this.sndMax, this.sndUna) > 0;
      // Nagle (RFC 9293 §3.7.4): hold a small segment while data is unacknowledged.
      if (!this.nodelay && inFlight && len === avail) return 0;
      // Sender SWS avoidance (§3.8.6.2.1): wait for a useful window unless it is half the max seen.
      if (len < avail && len < this.maxSndWnd / 2 && inFlight) return 0;
    }
    const retrans = seqLt(seq, this.sndMax);
    this.emitData(seq, len, finNow, now);
    if (retrans) this.countRetrans();
    const used = len + (finNow ? 1 : 0);
    if (finNow && this.finSeq < 0) this.finSeq = seqAdd(seq, len);
    this.sndNxt = seqAdd(seq, used);
    if (seqGt(this.sndNxt, this.sndMax)) {
      if (this.rttSeq < 0 && !retrans) {
        this.rttSeq = seq;
        this.rttStart = now;
      }
      this.sndMax = this.sndNxt;
    }
    if (this.rtoAt === 0) this.setDeadline('rto', now + this.rto);
    return used;
  }

  /** Emits one data (or FIN) segment for [seq, seq+len). */
  private emitData(seq: number, len: number, fin: boolean, now: Instant): void {
    let flags = TCP_ACK;
    if (len > 0 && seqAdd(seq, len) === seqAdd(this.sndUna, this.sndBuf.length)) flags |= TCP_PSH;
    if (fin) flags |= TCP_FIN;
    this.emit(seq, flags, len, -1, now);
  }

  /**
   * Builds and sends one segment: header from the connection, `dataLen` bytes from the send
   * buffer at `seq`, our window (or `window` when ≥ 0: SYNs, RSTs).
   */
  private emit(seq: number, flags: number, dataLen: number, window: number, now: Instant): void {
    const stack = this.layer.stack;
    const r = this.currentRoute();
    if (r === null) {
      stack.stats.IpOutNoRoutes++;
      return;
    }
    const t = this.layer.tx;
    if (!(flags & TCP_SYN)) {
      t.resetOptions();
      if (this.tsOk && !(flags & TCP_RST)) {
        t.tsPresent = true;
        t.tsVal = this.layer.tsClock(now);
        t.tsEcr = this.tsRecent;
      }
      if (this.sackOk && this.rcvBuf.ooo.length > 0 && !(flags & TCP_RST)) t.sackCount = this.rcvBuf.sackBlocks(t.sack, t.tsPresent ? 3 : 4);
    }
    t.srcPort = this.localPort;
    t.dstPort = this.remotePort;
    t.seq = seq;
    t.flags = flags;
    t.urgent = 0;
    if (flags & TCP_ACK) t.ack = this.rcvNxt;
    else t.ack = 0;
    if (window >= 0) t.window = window;
    else {
      const w = this.windowToAdvertise();
      t.window = w >>> this.rcvScale;
      const right = seqAdd(this.rcvNxt, t.window << this.rcvScale);
      if (seqGt(right, this.rcvAdvRight) || this.rcvAdvRight === 0) this.rcvAdvRight = right;
    }
    if (flags & TCP_SYN) this.rcvAdvRight = seqAdd(this.rcvNxt, t.window);
    const hlen = t.headerLen();
    // Every byte is written below (emitTcp fills the whole header, options included).
    const f = stack.txFrame(r.iface, hlen + dataLen);
    if (dataLen > 0) this.sndBuf.copyOut(seqDiff(seq, this.sndUna), f, L4_OFF + hlen, dataLen);
    emitTcp(f, L4_OFF, t, dataLen, this.localAddr, this.remoteAddr, !r.iface.offload);
    stack.stats.TcpOutSegs++;
    if (flags & TCP_ACK) {
      // Every segment carries the latest ACK: nothing delayed remains.
      this.ackPending = 0;
      this.delackAt = 0;
    }
    const ttl = this.ttl < 0 ? stack.defaultTtl : this.ttl;
    const err = stack.ipOutput(f, hlen + dataLen, PROTO_TCP, this.localAddr, this.remoteAddr, r, ttl, this.tos, true, now);
    if (err === E.EMSGSIZE) {
      // The path MTU dropped below our segment: shrink and let the retransmission resend.
      this.updateMss(now);
    }
  }

  private currentRoute(): Route | null {
    const stack = this.layer.stack;
    if (this.routeGen !== stack.routes.generation || this.route === null) {
      const r = stack.route(this.remoteAddr);
      if (r !== null) this.route = r;
      this.routeGen = stack.routes.generation;
    }
    return this.route;
  }

  /** An ICMP "fragmentation needed" lowered the path MTU (RFC 1191 §6.4): resend smaller. */
  pmtuChanged(now: Instant): void {
    const old = this.mss;
    this.updateMss(now);
    if (this.mss < old && seqLt(this.sndUna, this.sndMax)) {
      // Linux's tcp_simple_retransmit: resend what was in flight, no congestion response.
      this.sndNxt = this.sndUna;
      this.rttSeq = -1;
      this.output(now);
    }
  }

  /** A hard ICMP error (port/protocol unreachable) during the handshake ends it. */
  icmpError(err: Errno, now: Instant): void {
    if (this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV) {
      this.abortConnection(err, now, true);
      return;
    }
    this.softError = err;
  }

  // ---- RTT and timers (RFC 6298) -----------------------------------------------------------------

  /** Takes an RTT sample when the timed segment is acknowledged (Karn: never a retransmitted one). */
  private rttSample(now: Instant): void {
    if (this.rttSeq < 0 || !seqGt(this.sndUna, this.rttSeq)) return;
    const r = now - this.rttStart;
    this.rttSeq = -1;
    if (r < 0) return;
    if (this.srtt === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(RTO_MAX, Math.max(RTO_MIN, this.srtt + Math.max(1e6, 4 * this.rttvar)));
  }

  private armPersist(now: Instant): void {
    if (this.persistAt !== 0) return;
    const d = Math.min(RTO_MAX, Math.max(RTO_MIN, this.rto) * 2 ** this.backoff);
    this.setDeadline('persist', now + d);
  }

  /** Sets a deadline; `later` allows moving it later (the lazy timer re-checks when it fires). */
  private setDeadline(which: 'rto' | 'delack' | 'persist' | 'keep' | 'close', at: number, later = false): void {
    void later;
    switch (which) {
      case 'rto':
        this.rtoAt = at;
        break;
      case 'delack':
        this.delackAt = at;
        break;
      case 'persist':
        this.persistAt = at;
        break;
      case 'keep':
        this.keepAt = at;
        break;
      case 'close':
        this.closeAt = at;
        break;
    }
    if (this.armed === null || at < this.armedAt) this.arm(at);
  }

  private arm(at: number): void {
    this.armed?.cancel();
    this.armedAt = at;
    this.armed = this.layer.stack.timer(at as Instant, (now) => this.timerFired(now));
  }

  private clearTimers(): void {
    this.rtoAt = this.delackAt = this.persistAt = this.keepAt = this.closeAt = 0;
    this.armed?.cancel();
    this.armed = null;
  }

  private nextDeadline(): number {
    let t = 0;
    for (const d of [this.rtoAt, this.delackAt, this.persistAt, this.keepAt, this.closeAt]) if (d !== 0 && (t === 0 || d < t)) t = d;
    return t;
  }

  private timerFired(now: Instant): void {
    this.armed = null;
    if (this.closeAt !== 0 && now >= this.closeAt) {
      this.closeAt = 0;
      // TIME_WAIT over, or an orphaned FIN_WAIT2 gave up.
      if (this.state === TCP_FIN_WAIT2) this.sendRst(now);
      this.closeDone();
      this.layer.unbind(this);
      return;
    }
    if (this.delackAt !== 0 && now >= this.delackAt) {
      this.delackAt = 0;
      if (this.ackPending > 0) {
        this.layer.stack.stats.TcpExtDelayedACKs++;
        this.sendAck(now);
      }
    }
    if (this.rtoAt !== 0 && now >= this.rtoAt) {
      this.rtoAt = 0;
      this.retransmitTimeout(now);
    }
    if (this.persistAt !== 0 && now >= this.persistAt) {
      this.persistAt = 0;
      this.zeroWindowProbe(now);
    }
    if (this.keepAt !== 0 && now >= this.keepAt) {
      this.keepAt = 0;
      this.keepaliveTimer(now);
    }
    if (this.state === TCP_CLOSE) return;
    const next = this.nextDeadline();
    if (next !== 0) this.arm(next);
  }

  private retransmitTimeout(now: Instant): void {
    const stats = this.layer.stack.stats;
    if (this.sndUna === this.sndMax && this.state !== TCP_SYN_SENT && this.state !== TCP_SYN_RECV) return;
    this.retries++;
    stats.TcpExtTCPTimeouts++;
    const limit = this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV ? SYN_RETRIES : DATA_RETRIES;
    if (this.retries > limit || (this.userTimeout > 0 && now - this.lastRecv > this.userTimeout)) {
      if (this.state !== TCP_SYN_SENT) this.sendRst(now);
      this.abortConnection(E.ETIMEDOUT, now, true);
      return;
    }
    // RFC 6298 §5.5: back off.
    this.rto = Math.min(RTO_MAX, this.rto * 2);
    this.rttSeq = -1;
    if (this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV) {
      this.countRetrans();
      this.rttStart = 0;
      this.sendSyn(now);
      return;
    }
    // RFC 5681 §3.1 eq. (4) and loss window; RFC 2018 §8: forget the SACK scoreboard.
    const flight = seqDiff(this.sndMax, this.sndUna);
    if (!this.inRecovery || this.retries === 1) this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cc.onTimeout(this);
    this.cwnd = this.mss;
    this.inRecovery = false;
    this.dupAcks = 0;
    this.recover = this.sndMax;
    this.sacked = [];
    this.sackedBytes = 0;
    this.highRxt = this.sndUna;
    this.sndNxt = this.sndUna;
    this.setDeadline('rto', now + this.rto);
    this.output(now);
  }

  private zeroWindowProbe(now: Instant): void {
    if (this.state === TCP_CLOSE || this.sndWnd > 0) return;
    // A segment just left of the window makes the peer answer with its current window.
    this.layer.stack.stats.TcpExtTCPWinProbe++;
    this.emit(seqAdd(this.sndUna, -1 >>> 0), TCP_ACK, 0, -1, now);
    this.backoff = Math.min(this.backoff + 1, 12);
    this.armPersist(now);
  }

  private keepaliveTimer(now: Instant): void {
    if (!this.keepalive || this.state !== TCP_ESTABLISHED && this.state !== TCP_CLOSE_WAIT) return;
    const idle = now - this.lastRecv;
    if (idle < this.keepIdle && this.keepProbes === 0) {
      this.setDeadline('keep', this.lastRecv + this.keepIdle);
      return;
    }
    if (this.keepProbes >= this.keepCnt) {
      this.sendRst(now);
      this.abortConnection(E.ETIMEDOUT, now, true);
      return;
    }
    this.keepProbes++;
    this.layer.stack.stats.TcpExtTCPKeepAlive++;
    this.emit(seqAdd(this.sndUna, -1 >>> 0), TCP_ACK, 0, -1, now);
    this.setDeadline('keep', now + this.keepIntvl);
  }
}

