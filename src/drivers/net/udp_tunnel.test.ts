// UdpTunnelDevice on loopback: frames go to the remote, and only the remote's datagrams are
// delivered (as QEMU's -netdev dgram); another sender's are dropped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { UdpTunnelDevice } from './udp_tunnel.js';

function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

function send(s: Socket, data: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => s.send(data, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

test('UdpTunnelDevice: only datagrams from the configured remote are frames', { timeout: 10_000 }, async () => {
  const peer = await bound();
  const stranger = await bound();
  const dev = await UdpTunnelDevice.open({ local: '127.0.0.1:0', remote: `localhost:${peer.address().port}` });
  try {
    const got: number[] = [];
    let arrived: () => void = () => {};
    const peerFrame = new Promise<void>((r) => (arrived = r));
    dev.onReceive((f) => {
      got.push(f[0]!);
      if (f[0] === 2) arrived();
    });
    // The stranger's datagram is queued first (loopback delivers before send completes).
    await send(stranger, new Uint8Array(60).fill(1), dev.localPort);
    await send(peer, new Uint8Array(60).fill(2), dev.localPort);
    await peerFrame;
    assert.deepEqual(got, [2], 'only the remote\'s frame is delivered');
    assert.equal(dev.rxForeign, 1);
    assert.equal(dev.stats.rxDropped, 1);
    assert.equal(dev.stats.rxPackets, 1);
    // Transmit reaches the remote.
    const echoed = new Promise<Buffer>((r) => peer.once('message', (m) => r(m)));
    dev.transmit(new Uint8Array(60).fill(3));
    assert.equal((await echoed)[0], 3);
  } finally {
    dev.close();
    peer.close();
    stranger.close();
  }
});

test('UdpTunnelDevice: setRemote moves both where frames go and whom they come from', { timeout: 10_000 }, async () => {
  const first = await bound();
  const second = await bound();
  const dev = await UdpTunnelDevice.open({ local: '127.0.0.1:0', remote: `127.0.0.1:${first.address().port}` });
  try {
    await dev.setRemote(`127.0.0.1:${second.address().port}`);
    let arrived: (b: number) => void = () => {};
    const frame = new Promise<number>((r) => (arrived = r));
    dev.onReceive((f) => arrived(f[0]!));
    await send(first, new Uint8Array(60).fill(1), dev.localPort);
    await send(second, new Uint8Array(60).fill(2), dev.localPort);
    assert.equal(await frame, 2);
    assert.equal(dev.rxForeign, 1);
  } finally {
    dev.close();
    first.close();
    second.close();
  }
});
