// `tkl nc [-l] [-u] [-p PORT] [HOST] PORT`: netcat on tkl's stack — standard input to the
// socket, the socket to standard output. TCP half-closes when input ends (like nc -N) and
// exits when the peer closes; UDP sends each input chunk as one datagram.

import { SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../abi/linux/socket.js';
import type { Process } from '../api/boot.js';
import { resolve4 } from '../net/dns/resolver.js';
import { AF_INET, type SockAddrIn } from '../net/socket/sockaddr.js';
import { netHelp, netUsage, parseNetArgs, setupNet } from './netopts.js';

export async function nc(argv: string[]): Promise<number> {
  let listen = false;
  let udp = false;
  let localPort = 0;
  const pos: string[] = [];
  let parsed;
  try {
    parsed = parseNetArgs(argv);
    const a = parsed.args;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x === '--help' || x === '-h') {
        console.log(`usage: tkl nc [-l] [-u] [-p PORT] ${netUsage} [HOST] PORT\n\n${netHelp}\n\nexamples:\n  tkl nc --net tap:tkl0 --ip 10.0.0.2/24 10.0.0.1 8080 < request.txt\n  tkl nc -l --net tap:tkl0 --ip 10.0.0.2/24 9000 > received.bin\n  tkl nc -u --net passt --dhcp 192.0.2.53 53`);
        return 0;
      } else if (x === '-l') listen = true;
      else if (x === '-u') udp = true;
      else if (x === '-p') localPort = parsePort(a[++i]);
      else if (x.startsWith('-') && x.length > 1) throw new Error(`unknown option '${x}'`);
      else pos.push(x);
    }
    if (pos.length === 0 && !(listen && localPort)) throw new Error('no PORT');
    if (pos.length > 2) throw new Error(`unexpected argument '${pos[2]}'`);
    // The last operand is the port: `tkl nc 127.0.0.1` lacks one, `tkl nc -l 99999` is out of range.
    if (pos.length > 0) parsePort(pos[pos.length - 1]);
  } catch (e) {
    console.error(`tkl nc: ${(e as Error).message}`);
    return 2;
  }
  let ready;
  try {
    ready = await setupNet(parsed.net);
  } catch (e) {
    console.error(`tkl nc: ${(e as Error).message}`);
    return 1;
  }
  const { k, close } = ready;
  try {
    const port = pos.length > 0 ? parsePort(pos[pos.length - 1]) : localPort;
    const hostArg = pos.length > 1 ? pos[0]! : listen ? '0.0.0.0' : '127.0.0.1';
    const addr = await resolve4(k, hostArg);
    const s = k.sys.socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    let conn = s;
    let peer: SockAddrIn | null = null;
    if (listen) {
      k.sys.setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1);
      k.sys.bind(s, { family: AF_INET, addr, port: localPort || port });
      if (!udp) {
        k.sys.listen(s, 1);
        const from = {} as SockAddrIn;
        conn = await k.sys.accept4(s, from, 0);
        console.error(`tkl nc: connection from ${from.addr}:${from.port}`);
      }
    } else {
      if (localPort) k.sys.bind(s, { family: AF_INET, addr: '0.0.0.0', port: localPort });
      peer = { family: AF_INET, addr, port };
      await k.sys.connect(s, peer);
    }
    await Promise.all([pumpIn(k, conn, udp, () => peer), pumpOut(k, conn, udp, (p) => (peer ??= p))]);
    return 0;
  } catch (e) {
    console.error(`tkl nc: ${(e as Error).message}`);
    return 1;
  } finally {
    close();
  }
}

/** A port operand: decimal digits, 0–65535. Throws an Error naming the operand otherwise. */
function parsePort(x: string | undefined): number {
  if (x === undefined) throw new Error('no PORT');
  const port = /^[0-9]{1,5}$/.test(x) ? Number(x) : NaN;
  if (!(port <= 65535)) throw new Error(`bad port '${x}': a PORT is a number from 0 to 65535`);
  return port;
}

async function pumpIn(k: Process, fd: number, udp: boolean, peer: () => SockAddrIn | null): Promise<void> {
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    const data = new Uint8Array(b.buffer, b.byteOffset, b.length);
    const to = peer();
    if (udp) {
      if (to !== null) await k.sys.sendto(fd, data, undefined, 0, to);
    } else await k.sys.write(fd, data);
  }
  if (!udp) k.sys.shutdown(fd, SHUT_WR);
}

async function pumpOut(k: Process, fd: number, udp: boolean, learn: (p: SockAddrIn) => void): Promise<void> {
  const buf = new Uint8Array(65536);
  for (;;) {
    const from = {} as SockAddrIn;
    const n = udp ? await k.sys.recvfrom(fd, buf, undefined, 0, from) : await k.sys.read(fd, buf);
    if (udp && from.addr) learn({ ...from });
    if (n === 0 && !udp) return;
    await new Promise<void>((r) => process.stdout.write(buf.slice(0, n), () => r()));
  }
}
