// Directory-index name hashes (ext4 htree): legacy, half_md4 and tea, each in a signed and
// an unsigned variant (how a byte above 0x7f is widened). The disk-layout document's "Hash
// Tree Directories" section names them; the hash's lowest bit is always clear, because in an
// index entry it marks a hash collision continuing into the next leaf.

export const DX_HASH_LEGACY = 0;
export const DX_HASH_HALF_MD4 = 1;
export const DX_HASH_TEA = 2;
export const DX_HASH_LEGACY_UNSIGNED = 3;
export const DX_HASH_HALF_MD4_UNSIGNED = 4;
export const DX_HASH_TEA_UNSIGNED = 5;

/** The 32-bit end-of-directory marker; no name may hash to twice it. */
const HTREE_EOF_32BIT = 0x7fffffff;

/** The result of a dx hash: the major hash (what the index sorts on) and the minor hash. */
export interface DxHash {
  hash: number;
  minor: number;
}

/** Packs name bytes into `out` words as the kernel's str2hashbuf does (big-endian-ish, padded with the length). */
function str2hashbuf(name: Uint8Array, start: number, len: number, out: Uint32Array, num: number, signed: boolean): void {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  if (len > num * 4) len = num * 4;
  let w = 0;
  for (let i = 0; i < len; i++) {
    let c = name[start + i]!;
    if (signed && c > 0x7f) c -= 256;
    val = (c + (val << 8)) >>> 0;
    if (i % 4 === 3) {
      out[w++] = val;
      val = pad;
      num--;
    }
  }
  if (--num >= 0) out[w++] = val;
  while (--num >= 0) out[w++] = pad;
}

function rol32(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

const K2 = 0o13240474631;
const K3 = 0o15666365641;

/** Three rounds of MD4 over 8 words into buf (the "half MD4" of the htree hash). */
function halfMd4Transform(buf: Uint32Array, x: Uint32Array): void {
  let a = buf[0]!;
  let b = buf[1]!;
  let c = buf[2]!;
  let d = buf[3]!;
  const F = (p: number, q: number, r: number): number => r ^ (p & (q ^ r));
  const G = (p: number, q: number, r: number): number => ((p & q) + ((p ^ q) & r)) >>> 0;
  const H = (p: number, q: number, r: number): number => p ^ q ^ r;
  // Round 1
  a = rol32((a + F(b, c, d) + x[0]!) >>> 0, 3);
  d = rol32((d + F(a, b, c) + x[1]!) >>> 0, 7);
  c = rol32((c + F(d, a, b) + x[2]!) >>> 0, 11);
  b = rol32((b + F(c, d, a) + x[3]!) >>> 0, 19);
  a = rol32((a + F(b, c, d) + x[4]!) >>> 0, 3);
  d = rol32((d + F(a, b, c) + x[5]!) >>> 0, 7);
  c = rol32((c + F(d, a, b) + x[6]!) >>> 0, 11);
  b = rol32((b + F(c, d, a) + x[7]!) >>> 0, 19);
  // Round 2
  a = rol32((a + G(b, c, d) + x[1]! + K2) >>> 0, 3);
  d = rol32((d + G(a, b, c) + x[3]! + K2) >>> 0, 5);
  c = rol32((c + G(d, a, b) + x[5]! + K2) >>> 0, 9);
  b = rol32((b + G(c, d, a) + x[7]! + K2) >>> 0, 13);
  a = rol32((a + G(b, c, d) + x[0]! + K2) >>> 0, 3);
  d = rol32((d + G(a, b, c) + x[2]! + K2) >>> 0, 5);
  c = rol32((c + G(d, a, b) + x[4]! + K2) >>> 0, 9);
  b = rol32((b + G(c, d, a) + x[6]! + K2) >>> 0, 13);
  // Round 3
  a = rol32((a + H(b, c, d) + x[3]! + K3) >>> 0, 3);
  d = rol32((d + H(a, b, c) + x[7]! + K3) >>> 0, 9);
  c = rol32((c + H(d, a, b) + x[2]! + K3) >>> 0, 11);
  b = rol32((b + H(c, d, a) + x[6]! + K3) >>> 0, 15);
  a = rol32((a + H(b, c, d) + x[1]! + K3) >>> 0, 3);
  d = rol32((d + H(a, b, c) + x[5]! + K3) >>> 0, 9);
  c = rol32((c + H(d, a, b) + x[0]! + K3) >>> 0, 11);
  b = rol32((b + H(c, d, a) + x[4]! + K3) >>> 0, 15);
  buf[0] = buf[0]! + a;
  buf[1] = buf[1]! + b;
  buf[2] = buf[2]! + c;
  buf[3] = buf[3]! + d;
}

/** Sixteen TEA cycles over 4 words into buf[0..1]. */
function teaTransform(buf: Uint32Array, x: Uint32Array): void {
  let sum = 0;
  let b0 = buf[0]!;
  let b1 = buf[1]!;
  const a = x[0]!;
  const b = x[1]!;
  const c = x[2]!;
  const d = x[3]!;
  for (let n = 0; n < 16; n++) {
    sum = (sum + 0x9e3779b9) >>> 0;
    b0 = (b0 + ((((b1 << 4) + a) >>> 0) ^ ((b1 + sum) >>> 0) ^ (((b1 >>> 5) + b) >>> 0))) >>> 0;
    b1 = (b1 + ((((b0 << 4) + c) >>> 0) ^ ((b0 + sum) >>> 0) ^ (((b0 >>> 5) + d) >>> 0))) >>> 0;
  }
  buf[0] = buf[0]! + b0;
  buf[1] = buf[1]! + b1;
}

/** The original ext3 htree hash. */
function legacyHash(name: Uint8Array, start: number, len: number, signed: boolean): number {
  let h0 = 0x12a3fe2d;
  let h1 = 0x37abe8f9;
  for (let i = 0; i < len; i++) {
    let c = name[start + i]!;
    if (signed && c > 0x7f) c -= 256;
    let h = (h1 + ((h0 ^ Math.imul(c, 7152373)) >>> 0)) >>> 0;
    if (h & 0x80000000) h = (h - 0x7fffffff) >>> 0;
    h1 = h0;
    h0 = h;
  }
  return (h0 << 1) >>> 0;
}

const BUF = new Uint32Array(4);
const IN = new Uint32Array(8);

/**
 * The htree hash of name bytes [start, start+len) with hash version `version` (DX_HASH_*,
 * already adjusted for the unsigned flag) and the superblock's s_hash_seed (4 words; all zero
 * means the default seed). Returns a shared object: copy the fields before the next call.
 */
export function dxHash(name: Uint8Array, start: number, len: number, version: number, seed: ArrayLike<number> | null): DxHash {
  BUF[0] = 0x67452301;
  BUF[1] = 0xefcdab89;
  BUF[2] = 0x98badcfe;
  BUF[3] = 0x10325476;
  if (seed !== null && (seed[0] || seed[1] || seed[2] || seed[3])) {
    for (let i = 0; i < 4; i++) BUF[i] = seed[i]!;
  }
  let hash = 0;
  let minor = 0;
  switch (version) {
    case DX_HASH_LEGACY:
    case DX_HASH_LEGACY_UNSIGNED:
      hash = legacyHash(name, start, len, version === DX_HASH_LEGACY);
      break;
    case DX_HASH_HALF_MD4:
    case DX_HASH_HALF_MD4_UNSIGNED: {
      const signed = version === DX_HASH_HALF_MD4;
      for (let p = start, left = len; left > 0; p += 32, left -= 32) {
        str2hashbuf(name, p, left, IN, 8, signed);
        halfMd4Transform(BUF, IN);
      }
      hash = BUF[1]!;
      minor = BUF[2]!;
      break;
    }
    case DX_HASH_TEA:
    case DX_HASH_TEA_UNSIGNED: {
      const signed = version === DX_HASH_TEA;
      for (let p = start, left = len; left > 0; p += 16, left -= 16) {
        str2hashbuf(name, p, left, IN, 4, signed);
        teaTransform(BUF, IN);
      }
      hash = BUF[0]!;
      minor = BUF[1]!;
      break;
    }
    default:
      hash = 0;
  }
  hash = (hash & ~1) >>> 0;
  if (hash === HTREE_EOF_32BIT * 2) hash = (HTREE_EOF_32BIT - 1) * 2;
  RESULT.hash = hash;
  RESULT.minor = minor >>> 0;
  return RESULT;
}

const RESULT: DxHash = { hash: 0, minor: 0 };
