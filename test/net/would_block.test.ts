// Socket.recvWouldBlock() lets a blocking receive sleep without trying recvmsg first, so it
// must never claim "would block" where recvmsg would return data, 0 or an error. Checked here
// across the states of UDP and TCP sockets against a real non-blocking recvmsg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { MSG_DONTWAIT, SHUT_RD, SHUT_WR, SOCK_DGRAM, SOCK_STREAM } from '../../src/abi/linux/socket.js';
import { socketOf } from '../../src/net/socket/socket_file.js';
import type { Tkl } from '../../src/api/boot.js';
import { linkedPair } from './helpers.js';
import { E } from '../../src/kernel/errno.js';

const B = { family: AF_INET, addr: '10.0.0.2' } as const;

/**
 * Asserts that recvWouldBlock() on `fd` agrees with a MSG_DONTWAIT receive: when it says the
 * receive would block, the receive must fail with EAGAIN; `mustBlock` cases must say so.
 */
async function agrees(sim: SimHost, k: Tkl, fd: number, what: string, mustBlock = false): Promise<void> {
  sim.runSync();
  const sock = socketOf(k.kernel.init.files.lookup(fd)!);
  const claim = sock.recvWouldBlock();
  // The socket's own recvmsg, not the syscall (which itself trusts recvWouldBlock).
  let eagain = false;
  try {
    sock.recvmsg(new Uint8Array(100), 0, 100, MSG_DONTWAIT, { flags: 0 }, sim.monotonic());
  } catch (e) {
    eagain = e === E.EAGAIN;
  }
  if (claim) assert.ok(eagain, `${what}: recvWouldBlock() said yes, but recvmsg did not fail with EAGAIN`);
  if (mustBlock) assert.ok(claim && eagain, `${what}: an empty socket should report that it would block`);
}

test('recvWouldBlock agrees with recvmsg: UDP and TCP in the states a receive can meet', async () => {
  const sim = new SimHost({ seed: 9 });
  const { a, b } = linkedPair(sim);

  // UDP: empty, with a datagram, shut for reading.
  const u = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(u, { ...B, port: 6000 });
  await agrees(sim, b, u, 'udp, empty', true);
  const ua = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(ua, new Uint8Array(10), undefined, 0, { ...B, port: 6000 }));
  await agrees(sim, b, u, 'udp with a datagram');
  b.sys.connect(u, { family: AF_INET, addr: '10.0.0.1', port: 1 });
  b.sys.shutdown(u, SHUT_RD);
  await agrees(sim, b, u, 'udp shut for reading');

  // TCP: listening, not connected, established (empty, with data), after the peer's FIN,
  // shut for reading, after the peer closed.
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { ...B, port: 7000 });
  b.sys.listen(l, 4);
  await agrees(sim, b, l, 'tcp listening');
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  await agrees(sim, a, c, 'tcp not connected');
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, { ...B, port: 7000 }));
  const s = await sim.runUntil(acc);
  await agrees(sim, b, s, 'tcp established, empty', true);
  await sim.runUntil(a.sys.write(c, new Uint8Array(100)));
  await agrees(sim, b, s, 'tcp with data');
  a.sys.shutdown(c, SHUT_WR);
  await agrees(sim, b, s, 'tcp after the peer FIN');
  b.sys.shutdown(s, SHUT_RD);
  await agrees(sim, b, s, 'tcp shut for reading');
  a.sys.close(c);
  await agrees(sim, b, s, 'tcp after the peer closed');
});
