// Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a 4-microsecond timer and F a keyed hash. F here is SipHash-2-4 with a
// per-stack random 128-bit key (computed with BigInt: once per connection, never per segment).

const MASK64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK64;
}

/** SipHash-2-4 of `msg` under the 16-byte `key`; returns the 64-bit result. */
export function siphash24(key: Uint8Array, msg: Uint8Array): bigint {
  const k0 = readLe64(key, 0);
  const k1 = readLe64(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const full = msg.length - (msg.length % 8);
  for (let i = 0; i < full; i += 8) {
    const m = readLe64(msg, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  let last = BigInt(msg.length & 0xff) << 56n;
  for (let i = full; i < msg.length; i++) last |= BigInt(msg[i]!) << BigInt(8 * (i - full));
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK64;
}

function readLe64(b: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
}

export class IsnGenerator {
  private readonly key = new Uint8Array(16);
  private readonly msg = new Uint8Array(12);

  constructor(fill: (b: Uint8Array) => void) {
    fill(this.key);
  }

  /** The ISN for a connection at monotonic time `now` (ns). */
  isn(laddr: number, lport: number, raddr: number, rport: number, now: number): number {
    const v = new DataView(this.msg.buffer);
    v.setUint32(0, laddr);
    v.setUint32(4, raddr);
    v.setUint16(8, lport);
    v.setUint16(10, rport);
    const f = Number(siphash24(this.key, this.msg) & 0xffffffffn);
    const m = Math.floor(now / 4000) % 0x100000000;
    return (m + f) >>> 0;
  }
}
