// Wire formats from hand-built and malformed packets: every parser validates before reading,
// reports a reason, and never throws on arbitrary bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ARPOP_REPLY, ARPOP_REQUEST, emitArp, parseArp } from './arp.js';
import { emitEthernet, formatMac, parseEthernet, parseMac, MAC_BROADCAST } from './ethernet.js';
import { emitIcmp, ICMP_ECHO, parseIcmp } from './icmp.js';
import { emitIpv4, formatIpv4, IPPROTO_TCP, IPPROTO_UDP, Ipv4Repr, parseCidr, parseIpv4, parseIpv4Addr } from './ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_MALFORMED, WIRE_OK, WIRE_TRUNCATED, WIRE_UNSUPPORTED } from './status.js';
import { emitTcp, parseTcp, TCP_ACK, TCP_SYN, TcpRepr } from './tcp.js';
import { emitUdp, parseUdp, UdpRepr } from './udp.js';

const A = parseIpv4Addr('10.0.0.1')!;
const B = parseIpv4Addr('10.0.0.2')!;

test('addresses: parse and format MACs, dotted quads and prefixes; reject junk', () => {
  assert.equal(formatMac(parseMac('52:54:00:AB:cd:0e')!), '52:54:00:ab:cd:0e');
  assert.equal(parseMac('52:54:00:ab:cd'), null);
  assert.equal(parseMac('zz:54:00:ab:cd:00'), null);
  assert.equal(formatIpv4(parseIpv4Addr('192.168.1.254')!), '192.168.1.254');
  assert.equal(parseIpv4Addr('256.1.1.1'), null);
  assert.equal(parseIpv4Addr('1.2.3'), null);
  for (const bad of ['', '1.2.3.4.', '.1.2.3', '1..2.3', '1.2.3.4a', '0001.2.3.4', '1.2.3.256', ' 1.2.3.4', '1.2.3.-4']) assert.equal(parseIpv4Addr(bad), null, bad);
  assert.equal(parseIpv4Addr('255.255.255.255'), 0xffffffff);
  assert.equal(parseIpv4Addr('010.0.0.1'), parseIpv4Addr('10.0.0.1'));
  assert.equal(formatIpv4(0), '0.0.0.0');
  assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
  assert.deepEqual(parseCidr('10.1.2.3/24'), { addr: parseIpv4Addr('10.1.2.3'), prefix: 24 });
  assert.equal(parseCidr('10.1.2.3/33'), null);
});

test('ethernet: header round trip; short frames refused', () => {
  const f = new Uint8Array(60);
  emitEthernet(f, MAC_BROADCAST, parseMac('02:00:00:00:00:01')!, 0x0806);
  assert.deepEqual(parseEthernet(f), { dst: MAC_BROADCAST, src: 0x020000000001, ethertype: 0x0806 });
  assert.equal(parseEthernet(f.subarray(0, 13)), null);
});

test('arp: request round trip; wrong hardware type, lengths and opcodes refused', () => {
  const b = new Uint8Array(28);
  emitArp(b, 0, { op: ARPOP_REQUEST, senderMac: 0x020000000001, senderIp: A, targetMac: 0, targetIp: B });
  const r = parseArp(b, 0, 28);
  assert.equal(r.status, WIRE_OK);
  assert.deepEqual(r.arp, { op: ARPOP_REQUEST, senderMac: 0x020000000001, senderIp: A, targetMac: 0, targetIp: B });
  assert.equal(parseArp(b, 0, 27).status, WIRE_TRUNCATED);
  const bad = b.slice();
  bad[5] = 6; // protocol address length 6
  assert.equal(parseArp(bad, 0, 28).status, WIRE_MALFORMED);
  const op = b.slice();
  op[7] = 9;
  assert.equal(parseArp(op, 0, 28).status, WIRE_UNSUPPORTED);
  const rep = b.slice();
  rep[7] = ARPOP_REPLY;
  assert.equal(parseArp(rep, 0, 28).arp?.op, ARPOP_REPLY);
});

function ipHeader(): Uint8Array {
  const r = new Ipv4Repr();
  r.totalLen = 28;
  r.id = 0x1234;
  r.df = true;
  r.ttl = 64;
  r.protocol = IPPROTO_UDP;
  r.src = A;
  r.dst = B;
  const b = new Uint8Array(28);
  emitIpv4(b, 0, r, true);
  return b;
}

test('ipv4: round trip; bad checksum, version, header length, total length, options refused', () => {
  const b = ipHeader();
  const r = new Ipv4Repr();
  assert.equal(parseIpv4(b, 0, b.length, r, true), WIRE_OK);
  assert.equal(r.id, 0x1234);
  assert.equal(r.df, true);
  assert.equal(r.payloadLen, 8);
  assert.equal(r.src, A);
  assert.equal(r.dst, B);
  // Ethernet padding beyond totalLen is allowed.
  const padded = new Uint8Array(46);
  padded.set(b);
  assert.equal(parseIpv4(padded, 0, 46, r, true), WIRE_OK);
  assert.equal(r.totalLen, 28);

  const csum = b.slice();
  csum[8] ^= 1; // TTL changed, checksum stale
  assert.equal(parseIpv4(csum, 0, 28, r, true), WIRE_BAD_CHECKSUM);
  assert.equal(parseIpv4(csum, 0, 28, r, false), WIRE_OK, 'an offloading device skips verification');
  const ver = b.slice();
  ver[0] = 0x65;
  assert.equal(parseIpv4(ver, 0, 28, r, false), WIRE_MALFORMED);
  const ihl = b.slice();
  ihl[0] = 0x44;
  assert.equal(parseIpv4(ihl, 0, 28, r, false), WIRE_MALFORMED);
  assert.equal(parseIpv4(b, 0, 19, r, false), WIRE_TRUNCATED);
  const tot = b.slice();
  tot[3] = 100; // claims more than the frame holds
  assert.equal(parseIpv4(tot, 0, 28, r, false), WIRE_TRUNCATED);
  tot[3] = 10; // shorter than its header
  assert.equal(parseIpv4(tot, 0, 28, r, false), WIRE_MALFORMED);
  const evil = b.slice();
  evil[6] = 0x80; // reserved flag
  assert.equal(parseIpv4(evil, 0, 28, r, false), WIRE_MALFORMED);
  const far = b.slice();
  far[6] = 0x1f; // fragment offset 65528 + payload > 64 KiB
  far[7] = 0xff;
  assert.equal(parseIpv4(far, 0, 28, r, false), WIRE_MALFORMED);

  // A header with options: 24 bytes, one NOP-padded option of length 4 is fine; a bogus one is not.
  const o = new Uint8Array(32);
  o.set(b.subarray(0, 20));
  o[0] = 0x46;
  o[3] = 32;
  o.set([0x94, 4, 0, 0], 20); // router alert
  o[10] = o[11] = 0;
  const fix = (buf: Uint8Array): void => {
    buf[10] = buf[11] = 0;
    let s = 0;
    for (let i = 0; i < 24; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    const c = ~s & 0xffff;
    buf[10] = c >> 8;
    buf[11] = c & 0xff;
  };
  fix(o);
  assert.equal(parseIpv4(o, 0, 32, r, true), WIRE_OK);
  assert.equal(r.hdrLen, 24);
  o.set([0x94, 9, 0, 0], 20); // option length runs past the header
  fix(o);
  assert.equal(parseIpv4(o, 0, 32, r, true), WIRE_MALFORMED);
  o.set([0x94, 1, 0, 0], 20); // option length below 2
  fix(o);
  assert.equal(parseIpv4(o, 0, 32, r, true), WIRE_MALFORMED);
});

test('icmp: echo round trip; truncated and bad checksum refused', () => {
  const b = new Uint8Array(8 + 5);
  b.set([1, 2, 3, 4, 5], 8);
  emitIcmp(b, 0, b.length, ICMP_ECHO, 0, 0x4242, 7);
  const r = parseIcmp(b, 0, b.length, true);
  assert.equal(r.status, WIRE_OK);
  assert.deepEqual(r.icmp, { type: ICMP_ECHO, code: 0, id: 0x4242, seq: 7, dataOff: 8, dataLen: 5 });
  b[12] ^= 0xff;
  assert.equal(parseIcmp(b, 0, b.length, true).status, WIRE_BAD_CHECKSUM);
  assert.equal(parseIcmp(b, 0, 7, true).status, WIRE_TRUNCATED);
});

test('udp: round trip with checksum; zero checksum accepted; bad length and checksum refused', () => {
  const b = new Uint8Array(8 + 4);
  b.set([9, 8, 7, 6], 8);
  emitUdp(b, 0, 5000, 53, 12, A, B, true);
  const r = new UdpRepr();
  assert.equal(parseUdp(b, 0, 12, A, B, true, r), WIRE_OK);
  assert.deepEqual([r.srcPort, r.dstPort, r.length], [5000, 53, 12]);
  assert.equal(parseUdp(b, 0, 12, A, parseIpv4Addr('10.0.0.3')!, true, r), WIRE_BAD_CHECKSUM, 'pseudo-header covers the addresses');
  const none = b.slice();
  none[6] = none[7] = 0;
  assert.equal(parseUdp(none, 0, 12, A, B, true, r), WIRE_OK);
  const long = b.slice();
  long[5] = 40;
  assert.equal(parseUdp(long, 0, 12, A, B, true, r), WIRE_TRUNCATED);
  const short = b.slice();
  short[5] = 4;
  assert.equal(parseUdp(short, 0, 12, A, B, true, r), WIRE_MALFORMED);
  assert.equal(parseUdp(b, 0, 7, A, B, true, r), WIRE_TRUNCATED);
});

test('tcp: SYN with every option round trips; data segment with SACK blocks too', () => {
  const t = new TcpRepr();
  t.srcPort = 40000;
  t.dstPort = 80;
  t.seq = 0xfffffff0;
  t.ack = 0;
  t.flags = TCP_SYN;
  t.window = 65535;
  t.mss = 1460;
  t.wscale = 7;
  t.sackPermitted = true;
  t.tsPresent = true;
  t.tsVal = 12345;
  t.tsEcr = 0;
  const b = new Uint8Array(60);
  const hl = emitTcp(b, 0, t, 0, A, B, true);
  assert.equal(hl, 40);
  const p = new TcpRepr();
  assert.equal(parseTcp(b, 0, hl, A, B, true, p), WIRE_OK);
  assert.deepEqual(
    [p.srcPort, p.dstPort, p.seq, p.flags, p.window, p.mss, p.wscale, p.sackPermitted, p.tsPresent, p.tsVal, p.tsEcr, p.hdrLen],
    [40000, 80, 0xfffffff0, TCP_SYN, 65535, 1460, 7, true, true, 12345, 0, 40],
  );

  t.resetOptions();
  t.flags = TCP_ACK;
  t.tsPresent = true;
  t.sackCount = 3;
  t.sack.set([100, 200, 300, 400, 500, 600]);
  const d = new Uint8Array(60 + 3);
  const dl = emitTcp(d, 0, t, 0, A, B, false);
  assert.equal(dl, 60);
  d.set([1, 2, 3], dl);
  emitTcp(d, 0, t, 3, A, B, true);
  assert.equal(parseTcp(d, 0, 63, A, B, true, p), WIRE_OK);
  assert.equal(p.sackCount, 3);
  assert.deepEqual(Array.from(p.sack.subarray(0, 6)), [100, 200, 300, 400, 500, 600]);
  d[62] ^= 1;
  assert.equal(parseTcp(d, 0, 63, A, B, true, p), WIRE_BAD_CHECKSUM);
});

test('tcp: bogus options and header lengths are malformed, unknown options skipped', () => {
  const p = new TcpRepr();
  const make = (opts: number[]): Uint8Array => {
    const hl = 20 + Math.ceil(opts.length / 4) * 4;
    const b = new Uint8Array(hl);
    b[12] = (hl / 4) << 4;
    b.set(opts, 20);
    return b;
  };
  assert.equal(parseTcp(make([2, 3, 5, 0xb4]), 0, 24, A, B, false, p), WIRE_MALFORMED, 'MSS of length 3');
  assert.equal(parseTcp(make([3, 4, 7, 0]), 0, 24, A, B, false, p), WIRE_MALFORMED, 'window scale of length 4');
  assert.equal(parseTcp(make([8, 9, 0, 0, 0, 0, 0, 0]), 0, 28, A, B, false, p), WIRE_MALFORMED, 'timestamp of length 9');
  assert.equal(parseTcp(make([5, 7, 0, 0, 0, 0, 0, 0]), 0, 28, A, B, false, p), WIRE_MALFORMED, 'SACK block not a multiple of 8');
  assert.equal(parseTcp(make([30, 40, 0, 0]), 0, 24, A, B, false, p), WIRE_MALFORMED, 'option longer than the header');
  assert.equal(parseTcp(make([30, 0, 0, 0]), 0, 24, A, B, false, p), WIRE_MALFORMED, 'option length 0 (would loop)');
  assert.equal(parseTcp(make([1, 1, 1, 30]), 0, 24, A, B, false, p), WIRE_MALFORMED, 'length byte missing');
  assert.equal(parseTcp(make([3, 3, 20, 0]), 0, 24, A, B, false, p), WIRE_OK);
  assert.equal(p.wscale, 14, 'RFC 7323 §2.3: shifts above 14 count as 14');
  assert.equal(parseTcp(make([99, 4, 1, 2, 2, 4, 5, 0xb4]), 0, 28, A, B, false, p), WIRE_OK);
  assert.equal(p.mss, 1460, 'an unknown option is skipped');
  const hl = make([]);
  hl[12] = 4 << 4;
  assert.equal(parseTcp(hl, 0, 20, A, B, false, p), WIRE_MALFORMED, 'data offset below 5');
  hl[12] = 15 << 4;
  assert.equal(parseTcp(hl, 0, 20, A, B, false, p), WIRE_TRUNCATED, 'data offset past the segment');
  assert.equal(IPPROTO_TCP, 6);
});

test('no parser throws on arbitrary bytes', () => {
  const ip = new Ipv4Repr();
  const tcp = new TcpRepr();
  const udp = new UdpRepr();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, v) => {
      parseEthernet(b);
      parseArp(b, 0, b.length);
      parseIpv4(b, 0, b.length, ip, v);
      parseIcmp(b, 0, b.length, v);
      parseUdp(b, 0, b.length, A, B, v, udp);
      parseTcp(b, 0, b.length, A, B, v, tcp);
    }),
    { numRuns: 2000 },
  );
});
