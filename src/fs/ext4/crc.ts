// The two checksums ext4 and JBD2 use: crc32c (Castagnoli, for metadata_csum and journal
// checksums v2/v3) and crc16 (the ANSI/IBM polynomial, for gdt_csum group descriptors).
// Both are "raw" updates as Linux's crc32c()/crc16() are: no implicit inversion in or out.

/** crc32c tables for slicing by 8 (reflected polynomial 0x82F63B78), one typed array each. */
function makeTables(): Int32Array[] {
  const t: Int32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Int32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0]![i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[0]![i]!;
    for (let s = 1; s < 8; s++) {
      c = t[0]![c & 0xff]! ^ (c >>> 8);
      t[s]![i] = c;
    }
  }
  return t;
}
const [T0, T1, T2, T3, T4, T5, T6, T7] = makeTables() as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];

/**
 * Continues a crc32c over `buf[start, end)` from `crc` (Linux's crc32c(crc, p, len)). The
 * metadata_csum seed is crc32c(~0, uuid); every structure's checksum continues from a seed.
 */
export function crc32c(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  let c = crc | 0;
  let i = start;
  // Slicing by 8: eight table look-ups per eight bytes.
  const stop8 = end - ((end - start) & 7);
  for (; i < stop8; i += 8) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c = T7[c & 0xff]! ^ T6[(c >>> 8) & 0xff]! ^ T5[(c >>> 16) & 0xff]! ^ T4[c >>> 24]! ^
      T3[buf[i + 4]!]! ^ T2[buf[i + 5]!]! ^ T1[buf[i + 6]!]! ^ T0[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = T0[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

const LE32 = new Uint8Array(4);
const LE64 = new Uint8Array(8);

/** crc32c over one little-endian 32-bit value (inode numbers, group numbers, generations). */
export function crc32cU32(crc: number, v: number): number {
  LE32[0] = v;
  LE32[1] = v >>> 8;
  LE32[2] = v >>> 16;
  LE32[3] = v >>> 24;
  return crc32c(crc, LE32);
}

/** crc32c over one little-endian 64-bit value (xattr block numbers). */
export function crc32cU64(crc: number, v: number): number {
  const lo = v >>> 0;
  const hi = Math.floor(v / 0x100000000) >>> 0;
  LE64[0] = lo;
  LE64[1] = lo >>> 8;
  LE64[2] = lo >>> 16;
  LE64[3] = lo >>> 24;
  LE64[4] = hi;
  LE64[5] = hi >>> 8;
  LE64[6] = hi >>> 16;
  LE64[7] = hi >>> 24;
  return crc32c(crc, LE64);
}

/** crc32c over a big-endian 32-bit value (JBD2 sequence numbers). */
export function crc32cBE32(crc: number, v: number): number {
  LE32[0] = v >>> 24;
  LE32[1] = v >>> 16;
  LE32[2] = v >>> 8;
  LE32[3] = v;
  return crc32c(crc, LE32);
}

const T16 = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** Continues a crc16 (polynomial x^16+x^15+x^2+1, reflected: Linux's lib/crc16) over buf[start, end). */
export function crc16(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  let c = crc & 0xffff;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ T16[(c ^ buf[i]!) & 0xff]!;
  return c;
}
