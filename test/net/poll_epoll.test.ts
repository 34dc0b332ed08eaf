// poll and epoll across sockets, pipes and files: readiness, level and edge triggering,
// one-shot, timeouts; UDP port unreachable becoming ECONNREFUSED on a connected socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { SOCK_DGRAM } from '../../src/abi/linux/socket.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLET, EPOLLIN, EPOLLONESHOT, EPOLLOUT, POLLIN, POLLOUT } from '../../src/abi/linux/poll.js';
import { O_CREAT, O_RDWR } from '../../src/abi/linux/fcntl.js';
import type { EpollEvent } from '../../src/kernel/epoll.js';
import { linkedPair } from './helpers.js';

const B = { family: AF_INET, addr: '10.0.0.2', port: 53 } as const;

test('epoll: a UDP socket and a pipe; level-triggered repeats, edge-triggered does not', async () => {
  const sim = new SimHost({ seed: 1 });
  const { a, b } = linkedPair(sim);
  const s = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(s, B);
  const [r, w] = b.sys.pipe2(0) as unknown as [number, number];
  const ep = b.sys.epoll_create1(0);
  b.sys.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN, data: 'udp' });
  b.sys.epoll_ctl(ep, EPOLL_CTL_ADD, r, { events: EPOLLIN | EPOLLET, data: 'pipe' });
  const ev: EpollEvent[] = [];
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 0, 'nothing ready');
  const c = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const waiting = b.sys.epoll_pwait(ep, ev, 8, -1);
  await sim.runUntil(a.sys.sendto(c, new Uint8Array(10), undefined, 0, B));
  assert.equal(await sim.runUntil(waiting), 1);
  assert.deepEqual(ev, [{ events: EPOLLIN, data: 'udp' }]);
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 1, 'level-triggered: still ready');
  await sim.runUntil(b.sys.write(w, new Uint8Array(3)));
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 2);
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 1, 'edge-triggered pipe reported once');
  assert.equal(ev[0]!.data, 'udp');
  await sim.runUntil(b.sys.recvfrom(s, new Uint8Array(100)));
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 0);
  // ONESHOT disarms after one event until EPOLL_CTL_MOD re-arms it.
  b.sys.epoll_ctl(ep, EPOLL_CTL_MOD, r, { events: EPOLLIN | EPOLLONESHOT, data: 'pipe' });
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 1);
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 0);
  b.sys.epoll_ctl(ep, EPOLL_CTL_MOD, r, { events: EPOLLIN, data: 'again' });
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 0)), 1);
  assert.equal(ev[0]!.data, 'again');
  b.sys.epoll_ctl(ep, EPOLL_CTL_DEL, r, null);
  assert.throws(() => b.sys.epoll_ctl(ep, EPOLL_CTL_DEL, r, null), { code: 'ENOENT' });
  assert.throws(() => b.sys.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLOUT, data: 0 }), { code: 'EEXIST' });
  // A timeout passes in virtual time.
  const t = sim.monotonic();
  assert.equal(await sim.runUntil(b.sys.epoll_pwait(ep, ev, 8, 250)), 0);
  assert.ok(sim.monotonic() - t >= 250e6);
});

test('epoll refuses regular files (EPERM) as Linux does; poll reports them ready', async () => {
  const sim = new SimHost({ seed: 2 });
  const { a } = linkedPair(sim);
  const f = a.sys.open('/tmp/x', O_CREAT | O_RDWR, 0o600);
  const ep = a.sys.epoll_create1(0);
  assert.throws(() => a.sys.epoll_ctl(ep, EPOLL_CTL_ADD, f, { events: EPOLLIN, data: 0 }), { code: 'EPERM' });
  const s = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const fds = [
    { fd: f, events: POLLIN | POLLOUT, revents: 0 },
    { fd: s, events: POLLIN | POLLOUT, revents: 0 },
  ];
  assert.equal(await sim.runUntil(a.sys.poll(fds, 0)), 2);
  assert.equal(fds[0]!.revents, POLLIN | POLLOUT);
  assert.equal(fds[1]!.revents, POLLOUT, 'an empty UDP socket is writable only');
});

test('udp: a connected socket learns ECONNREFUSED from ICMP port unreachable', async () => {
  const sim = new SimHost({ seed: 3 });
  const { a, b } = linkedPair(sim);
  const c = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 9999 }));
  await sim.runUntil(a.sys.sendto(c, new Uint8Array(1), undefined, 0, null));
  sim.advance(10e6 as never);
  assert.equal(b.kernel.net.stats.UdpNoPorts, 1);
  assert.equal(a.kernel.net.stats.IcmpInDestUnreachs, 1);
  const r = await sim.runUntil(a.sys.recvfrom(c, new Uint8Array(10)).then(() => 'no error', (e: { code: string }) => e.code));
  assert.equal(r, 'ECONNREFUSED');
});
