// GUIDs as GPT stores them (UEFI spec Appendix A): 16 bytes whose first three fields are
// little-endian and last two big-endian, written as 8-4-4-4-12 upper-case hex.

const HEX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The GUID in bytes[off, off+16) as text. */
export function guidToString(bytes: Uint8Array, off: number): string {
  const h = (i: number): string => bytes[off + i]!.toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  ).toUpperCase();
}

/** True for text in 8-4-4-4-12 hex form. */
export function isGuid(text: string): boolean {
  return HEX.test(text);
}

/** Stores GUID `text` at bytes[off]. The caller checked isGuid. */
export function guidToBytes(text: string, bytes: Uint8Array, off: number): void {
  const x = text.replace(/-/g, '');
  const b = (i: number): number => parseInt(x.slice(i * 2, i * 2 + 2), 16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) bytes[off + order[i]!] = b(i);
}

/** True when the 16 bytes at off are all zero (an unused GPT entry's type). */
export function guidIsZero(bytes: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (bytes[off + i] !== 0) return false;
  return true;
}

/** A random (version 4, RFC 9562 §5.4) GUID. */
export function randomGuid(random: (buf: Uint8Array) => void = (b) => globalThis.crypto.getRandomValues(b as Uint8Array<ArrayBuffer>)): string {
  const b = new Uint8Array(16);
  random(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}
