// Socket-call semantics that Linux documents and tkl implements, checked on the sim host between
// two kernels: MSG_PEEK / MSG_TRUNC / MSG_DONTWAIT (recv(2)), getsockname/getpeername,
// SO_BROADCAST (socket(7)), AF_UNIX datagrams (unix(7)), sendmsg/recvmsg, ppoll and epoll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { AF_INET, AF_UNIX } from '../../src/net/socket/sockaddr.js';
import {
  MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_BROADCAST,
} from '../../src/abi/linux/socket.js';
import { EPOLL_CTL_ADD, EPOLLIN, EPOLLOUT, POLLIN, POLLOUT } from '../../src/abi/linux/poll.js';
import type { EpollEvent } from '../../src/kernel/epoll.js';
import type { MsgHdr } from '../../src/kernel/syscalls/sys_socket.js';
import type { Tkl } from '../../src/api/boot.js';
import { linkedPair } from './helpers.js';

const B = (port: number) => ({ family: AF_INET, addr: '10.0.0.2', port }) as const;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array, n = b.length): string => new TextDecoder().decode(b.subarray(0, n));

/** Drives `p` and returns the error code it rejected with, or 'no error'. */
async function code(sim: SimHost, p: Promise<unknown>): Promise<string> {
  return sim.runUntil(p.then(() => 'no error', (e: { code?: string }) => e.code ?? String(e)));
}

async function tcpPair(sim: SimHost, a: Tkl, b: Tkl, port: number): Promise<{ c: number; s: number; l: number }> {
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, B(port));
  b.sys.listen(l, 4);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, B(port)));
  return { c, s: await sim.runUntil(acc), l };
}

test('MSG_PEEK on TCP: peek then read return the same bytes; MSG_DONTWAIT on an empty socket is EAGAIN', async () => {
  const sim = new SimHost({ seed: 21 });
  const { a, b } = linkedPair(sim);
  const { c, s } = await tcpPair(sim, a, b, 80);
  assert.equal(await code(sim, b.sys.recvfrom(s, new Uint8Array(8), undefined, MSG_DONTWAIT)), 'EAGAIN');
  await sim.runUntil(a.sys.write(c, text('peekaboo!')));
  sim.advance(1e6 as never);
  const p1 = new Uint8Array(4);
  assert.equal(await sim.runUntil(b.sys.recvfrom(s, p1, undefined, MSG_PEEK)), 4);
  const p2 = new Uint8Array(16);
  assert.equal(await sim.runUntil(b.sys.recvfrom(s, p2, undefined, MSG_PEEK | MSG_DONTWAIT)), 9, 'peeking again sees everything still queued');
  const r = new Uint8Array(16);
  assert.equal(await sim.runUntil(b.sys.recvfrom(s, r)), 9);
  assert.equal(str(p1), 'peek');
  assert.equal(str(p2, 9), 'peekaboo!');
  assert.equal(str(r, 9), 'peekaboo!');
  assert.equal(await code(sim, b.sys.recvfrom(s, r, undefined, MSG_DONTWAIT)), 'EAGAIN', 'the read consumed it');
});

test('MSG_PEEK on UDP keeps the datagram; MSG_TRUNC returns its full length (recv(2))', async () => {
  const sim = new SimHost({ seed: 22 });
  const { a, b } = linkedPair(sim);
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, B(5000));
  assert.equal(await code(sim, b.sys.recvfrom(sb, new Uint8Array(8), undefined, MSG_DONTWAIT)), 'EAGAIN');
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(sa, text('first datagram'), undefined, 0, B(5000)));
  await sim.runUntil(a.sys.sendto(sa, text('second'), undefined, 0, B(5000)));
  sim.advance(1e6 as never);
  const small = new Uint8Array(5);
  const from: Record<string, unknown> = {};
  assert.equal(await sim.runUntil(b.sys.recvfrom(sb, small, undefined, MSG_PEEK | MSG_TRUNC, from)), 14, 'MSG_TRUNC: the real length');
  assert.equal(str(small), 'first');
  assert.equal(from.addr, '10.0.0.1');
  assert.equal(await sim.runUntil(b.sys.recvfrom(sb, small, undefined, MSG_PEEK)), 5, 'without MSG_TRUNC: the bytes copied');
  const all = new Uint8Array(64);
  assert.equal(await sim.runUntil(b.sys.recvfrom(sb, all)), 14, 'the peeked datagram is still first');
  assert.equal(str(all, 14), 'first datagram');
  // A truncating read without MSG_PEEK discards the rest of the datagram.
  assert.equal(await sim.runUntil(b.sys.recvfrom(sb, new Uint8Array(2), undefined, MSG_TRUNC)), 6);
  assert.equal(await code(sim, b.sys.recvfrom(sb, all, undefined, MSG_DONTWAIT)), 'EAGAIN');
});

test('getsockname / getpeername: bound, ephemeral and accepted addresses; ENOTCONN without a peer', async () => {
  const sim = new SimHost({ seed: 23 });
  const { a, b } = linkedPair(sim);
  const { c, s, l } = await tcpPair(sim, a, b, 8080);
  const cn = a.sys.getsockname(c) as { addr: string; port: number };
  assert.equal(cn.addr, '10.0.0.1');
  assert.ok(cn.port >= 32768 && cn.port <= 60999, `ephemeral port ${cn.port} in Linux's default ip_local_port_range`);
  assert.deepEqual(a.sys.getpeername(c), { family: AF_INET, addr: '10.0.0.2', port: 8080 });
  assert.deepEqual(b.sys.getsockname(s), { family: AF_INET, addr: '10.0.0.2', port: 8080 });
  assert.deepEqual(b.sys.getpeername(s), { family: AF_INET, addr: '10.0.0.1', port: cn.port });
  assert.deepEqual(b.sys.getsockname(l), { family: AF_INET, addr: '10.0.0.2', port: 8080 });
  assert.throws(() => b.sys.getpeername(l), { code: 'ENOTCONN' }, 'a listener has no peer');
  const u = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  assert.deepEqual(a.sys.getsockname(u), { family: AF_INET, addr: '0.0.0.0', port: 0 }, 'unbound: the wildcard, port 0');
  assert.throws(() => a.sys.getpeername(u), { code: 'ENOTCONN' });
  await sim.runUntil(a.sys.connect(u, B(53)));
  const un = a.sys.getsockname(u) as { addr: string; port: number };
  assert.equal(un.addr, '10.0.0.1', 'connect chose the source address');
  assert.notEqual(un.port, 0, 'and an ephemeral port');
  assert.deepEqual(a.sys.getpeername(u), { family: AF_INET, addr: '10.0.0.2', port: 53 });
  // connect(AF_UNSPEC) dissolves the association and releases the address connect chose.
  await sim.runUntil(a.sys.connect(u, { family: 0 } as never));
  assert.throws(() => a.sys.getpeername(u), { code: 'ENOTCONN' });
  assert.deepEqual(a.sys.getsockname(u), { family: AF_INET, addr: '0.0.0.0', port: un.port });
});

test('SO_BROADCAST: EACCES to a broadcast address without it; delivered with it', async () => {
  const sim = new SimHost({ seed: 24 });
  const { a, b } = linkedPair(sim);
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, { family: AF_INET, addr: '0.0.0.0', port: 67 });
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  assert.equal(a.sys.getsockopt(sa, SOL_SOCKET, SO_BROADCAST), 0);
  for (const dst of ['10.0.0.255', '255.255.255.255']) {
    assert.equal(await code(sim, a.sys.sendto(sa, text('x'), undefined, 0, { family: AF_INET, addr: dst, port: 67 })), 'EACCES', dst);
  }
  a.sys.setsockopt(sa, SOL_SOCKET, SO_BROADCAST, 1);
  assert.equal(a.sys.getsockopt(sa, SOL_SOCKET, SO_BROADCAST), 1);
  const buf = new Uint8Array(16);
  for (const dst of ['10.0.0.255', '255.255.255.255']) {
    await sim.runUntil(a.sys.sendto(sa, text(dst), undefined, 0, { family: AF_INET, addr: dst, port: 67 }));
    const from: Record<string, unknown> = {};
    const n = await sim.runUntil(b.sys.recvfrom(sb, buf, undefined, 0, from));
    assert.equal(str(buf, n), dst);
    assert.equal(from.addr, '10.0.0.1');
  }
});

test('AF_UNIX datagrams: socketpair keeps boundaries; named sockets; recvfrom reports the sender path', async () => {
  const sim = new SimHost({ seed: 25 });
  const { a } = linkedPair(sim);
  const [x, y] = a.sys.socketpair(AF_UNIX, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.write(x, text('one')));
  await sim.runUntil(a.sys.write(x, text('three')));
  const buf = new Uint8Array(64);
  assert.equal(await sim.runUntil(a.sys.read(y, buf)), 3, 'one datagram per read');
  assert.equal(await sim.runUntil(a.sys.read(y, buf)), 5);
  assert.equal(await code(sim, a.sys.recvfrom(y, buf, undefined, MSG_DONTWAIT)), 'EAGAIN');
  await sim.runUntil(a.sys.write(y, text('back')));
  assert.equal(await sim.runUntil(a.sys.read(x, buf)), 4, 'both directions');

  const srv = a.sys.socket(AF_UNIX, SOCK_DGRAM, 0);
  a.sys.bind(srv, { family: AF_UNIX, path: '/tmp/srv' });
  const cli = a.sys.socket(AF_UNIX, SOCK_DGRAM, 0);
  a.sys.bind(cli, { family: AF_UNIX, path: '/tmp/cli' });
  await sim.runUntil(a.sys.sendto(cli, text('request'), undefined, 0, { family: AF_UNIX, path: '/tmp/srv' }));
  const from: Record<string, unknown> = {};
  assert.equal(await sim.runUntil(a.sys.recvfrom(srv, buf, undefined, 0, from)), 7);
  assert.equal(from.path, '/tmp/cli', 'the sender bound a name: recvfrom reports it');
  await sim.runUntil(a.sys.sendto(srv, text('reply'), undefined, 0, from as never));
  const f2: Record<string, unknown> = {};
  assert.equal(await sim.runUntil(a.sys.recvfrom(cli, buf, undefined, 0, f2)), 5);
  assert.equal(str(buf, 5), 'reply');
  assert.equal(f2.path, '/tmp/srv');
  // An unbound sender: its address is unnamed (unix(7): sun_path empty).
  const anon = a.sys.socket(AF_UNIX, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(anon, text('?'), undefined, 0, { family: AF_UNIX, path: '/tmp/srv' }));
  const f3: Record<string, unknown> = {};
  assert.equal(await sim.runUntil(a.sys.recvfrom(srv, buf, undefined, 0, f3)), 1);
  assert.ok(!f3.path, `unnamed sender, got ${JSON.stringify(f3)}`);
  assert.equal(await code(sim, a.sys.sendto(anon, text('?'), undefined, 0, { family: AF_UNIX, path: '/tmp/nobody' })), 'ENOENT');
});

test('sendmsg gathers its iovecs into one datagram / stream; recvmsg scatters', async () => {
  const sim = new SimHost({ seed: 26 });
  const { a, b } = linkedPair(sim);
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, B(9));
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const n = await sim.runUntil(a.sys.sendmsg(sa, { name: B(9), iov: [text('gat'), new Uint8Array(0), text('her'), text('ed')] }, 0));
  assert.equal(n, 8);
  const buf = new Uint8Array(64);
  assert.equal(await sim.runUntil(b.sys.recvfrom(sb, buf)), 8, 'one datagram, not three');
  assert.equal(str(buf, 8), 'gathered');
  const { c, s } = await tcpPair(sim, a, b, 81);
  assert.equal(await sim.runUntil(a.sys.sendmsg(c, { iov: [text('stream '), text('gather')] }, 0)), 13);
  const msg: MsgHdr = { iov: [new Uint8Array(4), new Uint8Array(4), new Uint8Array(10)] };
  let got = 0;
  while (got < 13) {
    const parts: MsgHdr = got === 0 ? msg : { iov: [new Uint8Array(13 - got)] };
    got += await sim.runUntil(b.sys.recvmsg(s, parts, 0));
  }
  assert.equal(str(msg.iov[0]!), 'stre');
  assert.equal(str(msg.iov[1]!), 'am g');
  assert.equal(str(msg.iov[2]!, 5), 'ather');
});

test('ppoll and epoll watch a TCP socket, a UDP socket and a pipe at once', async () => {
  const sim = new SimHost({ seed: 27 });
  const { a, b } = linkedPair(sim, { latency: 1e6 });
  const { c, s } = await tcpPair(sim, a, b, 82);
  const u = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(u, B(83));
  const [r, w] = b.sys.pipe2(0) as unknown as [number, number];
  const fds = () => [s, u, r].map((fd) => ({ fd, events: POLLIN, revents: 0 }));
  const ep = b.sys.epoll_create1(0);
  for (const [fd, name] of [[s, 'tcp'], [u, 'udp'], [r, 'pipe']] as const) b.sys.epoll_ctl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN, data: name });
  const ev: EpollEvent[] = [];
  assert.equal(await sim.runUntil(b.sys.ppoll(fds(), { sec: 0, nsec: 0 })), 0);
  // Each source in turn wakes a blocked ppoll and a blocked epoll_pwait, and only its entry is ready.
  const ua = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const wake: [string, number, () => Promise<unknown>][] = [
    ['tcp', 0, () => a.sys.write(c, text('t'))],
    ['udp', 1, () => a.sys.sendto(ua, text('u'), undefined, 0, B(83))],
    ['pipe', 2, () => b.sys.write(w, text('p'))],
  ];
  for (const [name, i, act] of wake) {
    const list = fds();
    const t0 = sim.monotonic();
    const polled = b.sys.ppoll(list, { sec: 5, nsec: 0 });
    const epolled = b.sys.epoll_pwait(ep, ev, 8, 5000);
    sim.advance(3e6 as never);
    await sim.runUntil(act());
    assert.equal(await sim.runUntil(polled), 1, name);
    assert.equal(list[i]!.revents, POLLIN, name);
    assert.equal(await sim.runUntil(epolled), 1, name);
    assert.deepEqual(ev, [{ events: EPOLLIN, data: name }]);
    assert.ok(sim.monotonic() - t0 < 1e9, `${name}: woken by the data, not the timeout`);
    await sim.runUntil(b.sys.read([s, u, r][i]!, new Uint8Array(8)));
  }
  // Writability of all three.
  const out = [s, u, w].map((fd) => ({ fd, events: POLLOUT, revents: 0 }));
  assert.equal(await sim.runUntil(b.sys.ppoll(out, null)), 3);
  b.sys.epoll_ctl(ep, 1 + 2, u, { events: EPOLLIN | EPOLLOUT, data: 'udp' }); // EPOLL_CTL_MOD
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 1);
  assert.deepEqual(ev, [{ events: EPOLLOUT, data: 'udp' }]);
});
