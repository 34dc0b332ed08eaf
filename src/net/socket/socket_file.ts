// Sockets as open files: the FileOps that make read/write/poll/close work on a socket
// descriptor, and the factory socket(2) and socketpair(2) use. Every socket lives on an
// anonymous S_IFSOCK inode named "socket:[N]", as on Linux.

import { O_RDWR, O_NONBLOCK } from '../../abi/linux/fcntl.js';
import { S_IFSOCK } from '../../abi/linux/stat.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from '../../abi/linux/socket.js';
import type { Instant } from '../../host/host_ops.js';
import { E } from '../../kernel/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import { File, FMODE_READ, FMODE_WRITE, type FileOps } from '../../vfs/file.js';
import { PingSocket } from '../icmp/ping_socket.js';
import { TcpSocket } from '../tcp/tcp_socket.js';
import { UdpSocket } from '../udp/udp.js';
import { UnixDgramSocket, UnixStreamSocket, type UnixPaths } from '../unix/unix.js';
import { AF_INET, AF_INET6, AF_UNIX } from './sockaddr.js';
import { Socket } from './socket.js';

/** FIONREAD / FIONBIO ioctls (asm-generic/ioctls.h). */
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;

function now(s: Socket): Instant {
  return s.host!.monotonic();
}

export const socketFileOps: FileOps = {
  stream: true,
  read(f, buf, off, len) {
    const s = f.priv as Socket;
    return s.recvmsg(buf, off, len, 0, null, now(s));
  },
  write(f, buf, off, len) {
    const s = f.priv as Socket;
    return s.sendmsg(buf, off, len, null, 0, now(s));
  },
  poll(f) {
    return (f.priv as Socket).poll();
  },
  waitQueue(f) {
    return (f.priv as Socket).queue;
  },
  release(f) {
    const s = f.priv as Socket;
    s.release(now(s));
  },
  ioctl(f, request, arg) {
    const s = f.priv as Socket;
    if (request === FIONREAD) {
      if (s instanceof UdpSocket) return s.nextSize;
      if (s instanceof TcpSocket) return s.rcvBuf.length;
      return 0;
    }
    if (request === FIONBIO) {
      if (arg) f.flags |= O_NONBLOCK;
      else f.flags &= ~O_NONBLOCK;
      return 0;
    }
    throw E.ENOTTY;
  },
};

/** The Socket behind a descriptor's File. Errors: ENOTSOCK. */
export function socketOf(f: File): Socket {
  if (f.ops !== socketFileOps) throw E.ENOTSOCK;
  return f.priv as Socket;
}

/** A new socket of (family, type, protocol). Errors: EAFNOSUPPORT, ESOCKTNOSUPPORT, EPROTONOSUPPORT. */
export function createSocket(k: Kernel, family: number, type: number, protocol: number, paths: UnixPaths): Socket {
  let s: Socket;
  const net = k.net;
  if (family === AF_INET) {
    if (type === SOCK_STREAM) {
      if (protocol !== 0 && protocol !== IPPROTO_TCP) throw E.EPROTONOSUPPORT;
      s = new TcpSocket(net.tcp);
    } else if (type === SOCK_DGRAM) {
      if (protocol === IPPROTO_ICMP) s = new PingSocket(net);
      else if (protocol === 0 || protocol === IPPROTO_UDP) s = new UdpSocket(net.udp);
      else throw E.EPROTONOSUPPORT;
    } else throw E.ESOCKTNOSUPPORT;
  } else if (family === AF_UNIX) {
    if (protocol !== 0) throw E.EPROTONOSUPPORT;
    if (type === SOCK_STREAM) s = new UnixStreamSocket(net.unix, paths);
    else if (type === SOCK_DGRAM) s = new UnixDgramSocket(net.unix, paths);
    else throw E.ESOCKTNOSUPPORT;
  } else if (family === AF_INET6) throw E.EAFNOSUPPORT;
  else throw E.EAFNOSUPPORT;
  s.host = k.host;
  return s;
}

/** An open file for `s` (O_RDWR, plus O_NONBLOCK when asked). */
export function socketFile(k: Kernel, s: Socket, nonblock: boolean): File {
  s.host ??= k.host;
  return new File(k.anonInode(S_IFSOCK | 0o777, 'socket'), O_RDWR | (nonblock ? O_NONBLOCK : 0), FMODE_READ | FMODE_WRITE, socketFileOps, s);
}
