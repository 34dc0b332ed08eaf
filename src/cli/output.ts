// Messages and exit codes in the manner of coreutils: `tkl: cannot stat 'disk.img:2:/x': No
// such file or directory`, exit 0 on success, 1 when something failed, 2 for bad usage.

import { ERRNO_TABLE } from '../abi/linux/errno.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../abi/linux/stat.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A usage mistake: printed with a hint to --help, exit code 2. */
export class UsageError extends Error {}

/** A failure already described for the user; exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The strerror text for an error from the kernel or from node:fs. */
export function reason(e: unknown): string {
  const err = e as { code?: unknown; errno?: unknown; message?: unknown; detail?: unknown };
  if (typeof err.code === 'string') {
    // The strerror text, as coreutils prints; with what the kernel named when it said more
    // (a corrupt structure, an unsupported feature).
    const more = typeof err.detail === 'string' ? ` (${err.detail})` : '';
    for (const [, [name, text]] of ERRNO_TABLE) if (name === err.code) return text + more;
  }
  if (e instanceof CliError) return e.message;
  return typeof err.message === 'string' ? err.message : String(e);
}

/** `tkl: cannot <action> '<what>': <reason>` */
export function cannot(action: string, what: string, e: unknown): string {
  return `tkl: cannot ${action} '${what}': ${reason(e)}`;
}

/** Collects failures while a command goes on with its other arguments. */
export class Status {
  code = EXIT_OK;
  fail(message: string): void {
    process.stderr.write(message.endsWith('\n') ? message : message + '\n');
    if (this.code === EXIT_OK) this.code = EXIT_FAILURE;
  }
}

const TYPE_CHARS: Record<number, string> = {
  [S_IFREG]: '-', [S_IFDIR]: 'd', [S_IFLNK]: 'l', [S_IFCHR]: 'c', [S_IFBLK]: 'b', [S_IFIFO]: 'p', [S_IFSOCK]: 's',
};

/** `drwxr-xr-x` as ls -l prints a mode. */
export function modeString(mode: number): string {
  const t = TYPE_CHARS[mode & S_IFMT] ?? '?';
  const rwx = (bits: number, special: number, ch: string): string =>
    (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return (
    t +
    rwx((mode >> 6) & 7, mode & 0o4000, 's') +
    rwx((mode >> 3) & 7, mode & 0o2000, 's') +
    rwx(mode & 7, mode & 0o1000, 't')
  );
}

export function typeName(mode: number): string {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'file';
    case S_IFDIR:
      return 'directory';
    case S_IFLNK:
      return 'symlink';
    case S_IFCHR:
      return 'char-device';
    case S_IFBLK:
      return 'block-device';
    case S_IFIFO:
      return 'fifo';
    case S_IFSOCK:
      return 'socket';
    default:
      return 'unknown';
  }
}

/** 1.5K, 23M, 4.0G — as `ls -h`/`df -h`. */
export function human(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? String(v) : v < 10 ? `${v.toFixed(1)}${units[i]}` : `${Math.round(v)}${units[i]}`;
}

/** Parses sizes like 512, 64K, 256M, 4G, 1T (binary units). Errors: UsageError. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid size '${text}' (use e.g. 512K, 64M, 4G)`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
