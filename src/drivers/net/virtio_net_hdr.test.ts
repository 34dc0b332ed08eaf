import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkRxHeader, fillTxHeader, RX_BAD_CHECKSUM, RX_BAD_HEADER, RX_OK, RxInfo, VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VNET_HDR_LEN,
} from './virtio_net_hdr.js';
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../net/wire/checksum.js';

const SRC = 0x0a000002;
const DST = 0x0a000001;

/** An Ethernet + IPv4 frame with an L4 part of `l4Len` bytes (header zeroed, payload a pattern). */
function ipFrame(proto: number, l4Len: number, opts: { frag?: number; l4Hdr?: number[] } = {}): Uint8Array {
  const f = new Uint8Array(14 + 20 + l4Len);
  f.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
  const total = 20 + l4Len;
  f.set([0x45, 0, total >>> 8, total & 0xff, 0, 1, (opts.frag ?? 0x4000) >>> 8, (opts.frag ?? 0x4000) & 0xff, 64, proto, 0, 0], 14);
  f.set([10, 0, 0, 2, 10, 0, 0, 1], 26);
  const c = internetChecksum(f, 14, 20);
  f[24] = c >>> 8;
  f[25] = c & 0xff;
  for (let i = 34; i < f.length; i++) f[i] = (i * 7) & 0xff;
  if (opts.l4Hdr) f.set(opts.l4Hdr, 34);
  return f;
}

/** A TCP header with data offset `doff` bytes (options NOP-filled), checksum zero. */
function tcpHdr(doff: number): number[] {
  const h = new Array<number>(doff).fill(1);
  h.splice(0, 20, 0x30, 0x39, 0x1f, 0x40, 0, 0, 0, 1, 0, 0, 0, 1, (doff / 4) << 4, 0x18, 0xff, 0xff, 0, 0, 0, 0);
  return h;
}

function le16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}

/** What the device does with NEEDS_CSUM (virtio §5.1.6.2): sum from csum_start, store the complement. */
function completeChecksum(hdr: Uint8Array, frame: Uint8Array): void {
  const start = le16(hdr, 6);
  const at = start + le16(hdr, 8);
  const c = checksumFinish(checksumAdd(0, frame, start, frame.length - start));
  frame[at] = c >>> 8;
  frame[at + 1] = c & 0xff;
}

function l4Valid(frame: Uint8Array, proto: number): boolean {
  const l4Len = frame.length - 34;
  return checksumFinish(checksumAdd(pseudoHeaderSum(SRC, DST, proto, l4Len), frame, 34, l4Len)) === 0;
}

test('TX: a small TCP frame asks for NEEDS_CSUM with the pseudo-header sum the device completes', () => {
  const f = ipFrame(6, 32 + 100, { l4Hdr: tcpHdr(32) });
  const h = new Uint8Array(VNET_HDR_LEN);
  assert.equal(fillTxHeader(h, 0, f, 1500, true), true);
  assert.equal(h[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
  assert.equal(h[1], 0, 'GSO_NONE');
  assert.equal(le16(h, 6), 34, 'csum_start: the TCP header');
  assert.equal(le16(h, 8), 16, 'csum_offset: TCP checksum field');
  assert.equal(l4Valid(f, 6), false);
  completeChecksum(h, f);
  assert.equal(l4Valid(f, 6), true, 'checksum valid once the device completes it');
});

test('TX: UDP gets NEEDS_CSUM at offset 6; ICMP and a UDP fragment keep their own checksum', () => {
  const u = ipFrame(17, 8 + 50, { l4Hdr: [0, 53, 0, 53, 0, 58, 0, 0] });
  const h = new Uint8Array(VNET_HDR_LEN);
  assert.equal(fillTxHeader(h, 0, u, 1500, true), true);
  assert.deepEqual([h[0], le16(h, 6), le16(h, 8)], [VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6]);
  completeChecksum(h, u);
  assert.equal(l4Valid(u, 17), true);

  const icmp = ipFrame(1, 64);
  const before = icmp.slice();
  assert.equal(fillTxHeader(h, 0, icmp, 1500, true), true);
  assert.deepEqual([...h], new Array(VNET_HDR_LEN).fill(0));
  assert.deepEqual(icmp, before, 'an ICMP frame is left as the stack made it');

  const frag = ipFrame(17, 1480, { frag: 0x2000 }); // MF, offset 0
  const fb = frag.slice();
  assert.equal(fillTxHeader(h, 0, frag, 1500, true), true);
  assert.equal(h[0], 0, 'a fragment cannot be checksummed by the device');
  assert.deepEqual(frag, fb);
});

test('TX: a TCP super-frame becomes GSO_TCPV4 with gso_size = MTU − headers and a whole-frame pseudo sum', () => {
  const f = ipFrame(6, 32 + 1448 * 40, { l4Hdr: tcpHdr(32) });
  const h = new Uint8Array(VNET_HDR_LEN);
  assert.equal(fillTxHeader(h, 0, f, 1500, true), true);
  assert.equal(h[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
  assert.equal(h[1], VIRTIO_NET_HDR_GSO_TCPV4);
  assert.equal(le16(h, 2), 14 + 20 + 32, 'hdr_len: Ethernet + IP + TCP');
  assert.equal(le16(h, 4), 1448, 'gso_size: segment payload');
  // Linux segments from a field holding the pseudo sum over the whole length; completing it
  // unsegmented must give a valid checksum of the super-frame.
  completeChecksum(h, f);
  assert.equal(l4Valid(f, 6), true);
});

test('TX: big-endian header fields when the kernel could not be told little-endian', () => {
  const f = ipFrame(6, 20 + 3000, { l4Hdr: tcpHdr(20) });
  const h = new Uint8Array(VNET_HDR_LEN);
  assert.equal(fillTxHeader(h, 0, f, 1500, false), true);
  assert.deepEqual([...h.subarray(2, 10)], [0, 54, 0x05, 0xb4, 0, 34, 0, 16]);
});

test('TX: oversize frames that cannot be segmented are refused; bad IP lengths too', () => {
  const h = new Uint8Array(VNET_HDR_LEN);
  assert.equal(fillTxHeader(h, 0, ipFrame(17, 3000, { l4Hdr: [0, 1, 0, 2, 0x0b, 0xb8, 0, 0] }), 1500, true), false, 'UDP over the MTU (no UFO)');
  assert.equal(fillTxHeader(h, 0, ipFrame(1, 3000), 1500, true), false, 'ICMP over the MTU');
  const f = ipFrame(6, 100, { l4Hdr: tcpHdr(20) });
  f[16] = 0xff; // total length past the frame
  assert.equal(fillTxHeader(h, 0, f, 1500, true), false);
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(fillTxHeader(h, 0, arp, 1500, true), true);
  assert.equal(h[0], 0);
});

/** A received buffer: header then frame. */
function rx(hdr: number[], frame: Uint8Array): Uint8Array {
  const b = new Uint8Array(VNET_HDR_LEN + frame.length);
  b.set(hdr, 0);
  b.set(frame, VNET_HDR_LEN);
  return b;
}

function check(b: Uint8Array, info = new RxInfo()): number {
  return checkRxHeader(b, 0, VNET_HDR_LEN, b.length - VNET_HDR_LEN, true, info);
}

function validTcp(l4Len: number): Uint8Array {
  const f = ipFrame(6, l4Len, { l4Hdr: tcpHdr(20) });
  const c = checksumFinish(checksumAdd(pseudoHeaderSum(SRC, DST, 6, l4Len), f, 34, l4Len));
  f[50] = c >>> 8;
  f[51] = c & 0xff;
  return f;
}

test('RX: malformed virtio-net headers are refused (never a throw)', () => {
  const tcp = validTcp(120);
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const cases: [string, Uint8Array][] = [
    ['an unknown flag bit', rx([0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0], tcp)],
    ['GSO_UDP, never negotiated', rx([0, 3, 54, 0, 0x10, 0, 0, 0, 0, 0], tcp)],
    ['GSO_TCPV6, never negotiated', rx([0, 4, 54, 0, 0x10, 0, 0, 0, 0, 0], tcp)],
    ['GSO_ECN alone', rx([0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0], tcp)],
    ['GSO_TCPV4 with gso_size 0', rx([1, 1, 54, 0, 0, 0, 34, 0, 16, 0], tcp)],
    ['GSO_TCPV4 with hdr_len past the frame', rx([1, 1, 0xff, 0xff, 0xa8, 0x05, 34, 0, 16, 0], tcp)],
    ['GSO_TCPV4 on an ARP frame', rx([0, 1, 14, 0, 0xa8, 0x05, 0, 0, 0, 0], arp)],
    ['GSO_TCPV4 on UDP', rx([0, 1, 42, 0, 0xa8, 0x05, 0, 0, 0, 0], ipFrame(17, 100))],
    ['csum_start past the frame', rx([1, 0, 0, 0, 0, 0, 0xff, 0x7f, 16, 0], tcp)],
    ['csum_offset past the frame', rx([1, 0, 0, 0, 0, 0, 34, 0, 120, 0], tcp)],
    ['a frame shorter than Ethernet', rx([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], new Uint8Array(10))],
  ];
  for (const [what, b] of cases) assert.equal(check(b), RX_BAD_HEADER, what);
});

test('RX: what Linux vouched for is trusted, the rest verified', () => {
  const info = new RxInfo();
  const good = validTcp(200);
  assert.equal(check(rx([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], good), info), RX_OK);
  assert.equal(info.gso, false);
  const bad = good.slice();
  bad[100] ^= 0xff;
  assert.equal(check(rx([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], bad)), RX_BAD_CHECKSUM, 'no flag: TCP checksum checked');
  assert.equal(check(rx([VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0, 0, 0, 0], bad)), RX_OK, 'DATA_VALID: trusted');
  assert.equal(check(rx([VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 34, 0, 16, 0], bad)), RX_OK, 'NEEDS_CSUM: partial, trusted');
  const badIp = good.slice();
  badIp[22] = 1; // TTL changed: the IP header checksum no longer holds
  assert.equal(check(rx([VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0, 0, 0, 0], badIp)), RX_BAD_CHECKSUM, 'the IP header is always checked');
  // A coalesced TCP frame: GSO accepted and reported.
  const big = ipFrame(6, 20 + 1448 * 10, { l4Hdr: tcpHdr(20) });
  assert.equal(check(rx([1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0], big), info), RX_OK);
  assert.equal(info.gso, true);
  // UDP without checksum is legal over IPv4; a bad ICMP checksum is not.
  assert.equal(check(rx([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ipFrame(17, 40, { l4Hdr: [0, 1, 0, 2, 0, 40, 0, 0] }))), RX_OK);
  assert.equal(check(rx([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ipFrame(1, 64, { l4Hdr: [8, 0, 0x12, 0x34] }))), RX_BAD_CHECKSUM);
});

test('RX: random headers over random frames never throw and never read past the frame', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: VNET_HDR_LEN, maxLength: VNET_HDR_LEN }), fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (h, frame, le) => {
      // The buffer beyond the frame is poisoned: a read there would make the result depend on it.
      const b = new Uint8Array(VNET_HDR_LEN + frame.length + 64).fill(0xee);
      b.set(h, 0);
      b.set(frame, VNET_HDR_LEN);
      const r1 = checkRxHeader(b, 0, VNET_HDR_LEN, frame.length, le, new RxInfo());
      b.fill(0x11, VNET_HDR_LEN + frame.length);
      const r2 = checkRxHeader(b, 0, VNET_HDR_LEN, frame.length, le, new RxInfo());
      assert.equal(r1, r2);
      assert.ok(r1 === RX_OK || r1 === RX_BAD_HEADER || r1 === RX_BAD_CHECKSUM);
    }),
    { numRuns: 2000 },
  );
});
