// Addresses on the command line: `IMAGE[:PART]:/path` names a path inside a disk image (PART
// is a partition number, a GPT partition name or a filesystem label; without it, a bare
// filesystem image or the disk's only partition); anything without a ":/" is a host path.

export interface ImageAddress {
  kind: 'image';
  /** The image file on the host. */
  image: string;
  /** The partition selector as written, or null. */
  part: string | null;
  /** The absolute path inside the filesystem. */
  path: string;
  /** The address as the user wrote it, for messages. */
  text: string;
}

export interface HostAddress {
  kind: 'host';
  path: string;
  text: string;
}

export type Address = ImageAddress | HostAddress;

/**
 * Splits an address. The image part is everything before the first ":/"; when it contains a
 * colon, what follows the last colon is the partition — unless the whole prefix names an
 * existing file (an image whose name contains a colon). `exists` answers that question.
 */
export function parseAddress(text: string, exists: (p: string) => boolean = () => false): Address {
  const at = text.indexOf(':/');
  if (at < 0) return { kind: 'host', path: text, text };
  const prefix = text.slice(0, at);
  const path = text.slice(at + 1);
  if (prefix === '') return { kind: 'host', path: text, text };
  const colon = prefix.lastIndexOf(':');
  if (colon < 0 || exists(prefix)) return { kind: 'image', image: prefix, part: null, path, text };
  return { kind: 'image', image: prefix.slice(0, colon), part: prefix.slice(colon + 1), path, text };
}

/** "disk.img:2:/etc" for an image address with a new path. */
export function formatAddress(a: ImageAddress, path: string): string {
  return `${a.image}${a.part !== null ? `:${a.part}` : ''}:${path}`;
}
