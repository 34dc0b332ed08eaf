// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum
// of 16-bit words. Sums are carried as plain numbers and folded once at the end; the sum is
// byte-order independent (RFC 1071 §2(B)), which lets aligned buffers be summed 32 bits at a time.

/** Adds buf[off, off+len) to the running sum `sum` (as if it started at an even offset). */
export function checksumAdd(sum: number, buf: Uint8Array, off: number, len: number): number {
  let i = off;
  const end = off + len;
  // Long, 4-aligned runs: little-endian 32-bit words, byte-swapped back when folded.
  if (len >= 64 && ((buf.byteOffset + off) & 3) === 0) {
    const words = len >>> 2;
    const w = new Uint32Array(buf.buffer, buf.byteOffset + off, words);
    let acc = 0;
    for (let k = 0; k < words; k++) {
      acc += w[k]!;
      // Keep the accumulator well inside 2^53.
      if (acc >= 0x10000000000000) acc = (acc % 0x100000000) + Math.floor(acc / 0x100000000);
    }
    // Fold to 16 bits (little-endian word sum), then swap into network order.
    acc = foldWide(acc);
    sum += ((acc & 0xff) << 8) | (acc >>> 8);
    i += words << 2;
  }
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  // Keep the running sum small so callers can chain many pieces.
  if (sum > 0x7fffffff) sum = foldWide(sum);
  return sum;
}

/** Adds a 16-bit value. */
export function checksumAdd16(sum: number, v: number): number {
  return sum + (v & 0xffff);
}

/** Adds a 32-bit value as two 16-bit words (an IPv4 address). */
export function checksumAdd32(sum: number, v: number): number {
  return sum + (v >>> 16) + (v & 0xffff);
}

function foldWide(s: number): number {
  while (s > 0xffff) {
    const hi = Math.floor(s / 65536);
    s = s - hi * 65536 + hi;
  }
  return s;
}

/** The final checksum field value: the complement of the folded sum. */
export function checksumFinish(sum: number): number {
  return ~foldWide(sum) & 0xffff;
}

/** The checksum of one buffer range (a header). */
export function internetChecksum(buf: Uint8Array, off: number, len: number): number {
  return checksumFinish(checksumAdd(0, buf, off, len));
}

/** The sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768) for `proto` and `length`. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, length: number): number {
  return checksumAdd32(checksumAdd32(0, src), dst) + proto + length;
}
