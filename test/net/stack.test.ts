// Two kernels over the in-memory link on the sim host: ARP, ping, UDP, TCP, AF_UNIX, epoll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { AF_INET, AF_UNIX } from '../../src/net/socket/sockaddr.js';
import { IPPROTO_ICMP, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SHUT_WR } from '../../src/abi/linux/socket.js';
import { linkedPair, pattern } from './helpers.js';
import type { MsgHdr } from '../../src/kernel/syscalls/sys_socket.js';

const A = { family: AF_INET, addr: '10.0.0.1' } as const;
const B = { family: AF_INET, addr: '10.0.0.2' } as const;

test('udp: a datagram each way over ARP; sender address reported', async () => {
  const sim = new SimHost({ seed: 3 });
  const { a, b } = linkedPair(sim);
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, { ...B, port: 5000 });
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(sa, new TextEncoder().encode('hello'), undefined, 0, { ...B, port: 5000 }));
  const buf = new Uint8Array(100);
  const from: Record<string, unknown> = {};
  const n = await sim.runUntil(b.sys.recvfrom(sb, buf, undefined, 0, from));
  assert.equal(new TextDecoder().decode(buf.subarray(0, n)), 'hello');
  assert.equal(from.addr, '10.0.0.1');
  const port = from.port as number;
  await sim.runUntil(b.sys.sendto(sb, new TextEncoder().encode('back'), undefined, 0, { ...A, port }));
  const m = await sim.runUntil(a.sys.recvfrom(sa, buf));
  assert.equal(new TextDecoder().decode(buf.subarray(0, m)), 'back');
});

test('ping socket: echo request and reply across the link', async () => {
  const sim = new SimHost({ seed: 4 });
  const { a } = linkedPair(sim, { latency: 1e6 });
  const s = a.sys.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  const req = new Uint8Array(8 + 16);
  req[0] = 8;
  req[7] = 1;
  await sim.runUntil(a.sys.sendto(s, req, undefined, 0, { ...B, port: 0 }));
  const buf = new Uint8Array(100);
  const n = await sim.runUntil(a.sys.recvfrom(s, buf));
  assert.equal(n, 24);
  assert.equal(buf[0], 0, 'echo reply');
  assert.equal(buf[7], 1, 'same sequence');
});

test('tcp: connect, accept, 1 MiB each way byte-exact, half-close, EOF', async () => {
  const sim = new SimHost({ seed: 5 });
  const { a, b } = linkedPair(sim, { latency: 100e3 });
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { ...B, port: 80 });
  b.sys.listen(l, 16);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, { ...B, port: 80 }));
  const s = await sim.runUntil(acc);
  const data = pattern(1 << 20, 9);
  const reader = (async () => {
    const got = new Uint8Array(data.length);
    let at = 0;
    for (;;) {
      const n = await b.sys.read(s, got.subarray(at));
      if (n === 0) break;
      at += n;
    }
    return got.subarray(0, at);
  })();
  const writer = (async () => {
    await a.sys.write(c, data);
    a.sys.shutdown(c, SHUT_WR);
  })();
  const [got] = await sim.runUntil(Promise.all([reader, writer]));
  assert.equal(got.length, data.length);
  assert.ok(Buffer.from(got).equals(Buffer.from(data)));
  // The other direction after the half-close.
  const back = pattern(300000, 11);
  const r2 = (async () => {
    const got2 = new Uint8Array(back.length + 10);
    let at = 0;
    for (;;) {
      const n = await a.sys.read(c, got2.subarray(at));
      if (n === 0) break;
      at += n;
    }
    return got2.subarray(0, at);
  })();
  await sim.runUntil(b.sys.write(s, back));
  b.sys.close(s);
  const got2 = await sim.runUntil(r2);
  assert.ok(Buffer.from(got2).equals(Buffer.from(back)));
  a.sys.close(c);
  assert.equal(a.kernel.net.stats.TcpRetransSegs, 0);
});

test('unix: stream socketpair and a named listener', async () => {
  const sim = new SimHost({ seed: 6 });
  const { a } = linkedPair(sim);
  const [x, y] = a.sys.socketpair(AF_UNIX, SOCK_STREAM, 0);
  await sim.runUntil(a.sys.write(x, new TextEncoder().encode('ping')));
  const buf = new Uint8Array(10);
  assert.equal(await sim.runUntil(a.sys.read(y, buf)), 4);
  a.sys.close(x);
  assert.equal(await sim.runUntil(a.sys.read(y, buf)), 0, 'EOF after the peer closed');
  const l = a.sys.socket(AF_UNIX, SOCK_STREAM, 0);
  a.sys.bind(l, { family: AF_UNIX, path: '/tmp/sock' });
  a.sys.listen(l, 4);
  assert.equal(a.sys.stat('/tmp/sock').mode & 0o170000, 0o140000, 'bind made a socket inode');
  const c = a.sys.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_UNIX, path: '/tmp/sock' }));
  const s = await sim.runUntil(a.sys.accept4(l, null, 0));
  await sim.runUntil(a.sys.write(s, new TextEncoder().encode('hi')));
  assert.equal(await sim.runUntil(a.sys.read(c, buf)), 2);
});

test('recvfrom and recvmsg report the sender also when they had to wait', async () => {
  const sim = new SimHost({ seed: 8 });
  const { a, b } = linkedPair(sim, { latency: 1e6 });
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, { ...B, port: 7 });
  const from: Record<string, unknown> = {};
  const waiting = b.sys.recvfrom(sb, new Uint8Array(64), undefined, 0, from);
  const msg: MsgHdr = { iov: [new Uint8Array(2), new Uint8Array(8)] };
  const waiting2 = b.sys.recvmsg(sb, msg, 0);
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(sa, new TextEncoder().encode('one'), undefined, 0, { ...B, port: 7 }));
  await sim.runUntil(a.sys.sendto(sa, new TextEncoder().encode('two-and-more'), undefined, 0, { ...B, port: 7 }));
  assert.equal(await sim.runUntil(waiting), 3);
  assert.equal(from.addr, '10.0.0.1');
  assert.equal(await sim.runUntil(waiting2), 10);
  assert.equal((msg.name as { addr: string }).addr, '10.0.0.1');
  assert.equal(msg.flags, 0x20, 'MSG_TRUNC: the datagram was longer than the buffers');
  assert.equal(new TextDecoder().decode(msg.iov[1]), 'o-and-mo');
});
