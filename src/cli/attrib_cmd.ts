// `tkl attrib`: FAT attributes (read-only, hidden, system, archive) shown and changed the way
// mtools' mattrib does, through Linux's FAT_IOCTL_GET/SET_ATTRIBUTES; and the attribute
// names `tkl stat` shows for files on FAT. Other filesystems have no such attributes (ENOTTY).

import type { Command } from 'commander';
import { AT_FDCWD, O_CLOEXEC, O_NOFOLLOW, O_RDONLY } from '../abi/linux/fcntl.js';
import {
  ATTR_ARCH, ATTR_HIDDEN, ATTR_RO, ATTR_SYS, FAT_IOCTL_GET_ATTRIBUTES, FAT_IOCTL_SET_ATTRIBUTES,
} from '../abi/linux/msdos_fs.js';
import { MSDOS_SUPER_MAGIC } from '../abi/linux/mount.js';
import type { Sys } from '../api/syscall/sys.js';
import { inSession } from './in_session.js';
import { CliError, cannot, printJson, UsageError } from './output.js';
import { imageArgs } from './read_cmds.js';

/** The attributes by mattrib's letter, in the order `tkl stat` names them. */
const ATTRS: readonly [letter: string, bit: number, name: string][] = [
  ['r', ATTR_RO, 'read-only'],
  ['h', ATTR_HIDDEN, 'hidden'],
  ['s', ATTR_SYS, 'system'],
  ['a', ATTR_ARCH, 'archive'],
];

const HELP = `Usage: tkl attrib [+a|-a] [+h|-h] [+r|-r] [+s|-s] [--json] IMAGE[:PART]:/path...

Show or change FAT attributes inside an image, as mtools' mattrib does: a archive,
h hidden, r read-only, s system; '+' sets, '-' clears (several letters may share a
sign: +hs). With no change, prints each path's attributes in mattrib's columns
(--json: an array of {path, fatAttributes}). Read-only is the same thing as a file
without write permission (chmod a-w); on a directory it is kept but, as on Linux
without the 'rodir' mount option, does not change the permissions. The root
directory has no attributes. Only FAT filesystems have these attributes.

Examples:
  tkl attrib sd.img:1:/config.txt sd.img:1:/overlays
  tkl attrib +h +s sd.img:boot:/bootcode.bin
  tkl attrib -r -a disk.img:/README.TXT
`;

/** The names of the attribute bits `a` (read-only, hidden, system, archive). */
export function attributeNames(a: number): string[] {
  return ATTRS.filter(([, bit]) => a & bit).map(([, , name]) => name);
}

/**
 * The FAT attribute bits of `path` (not following a final symlink), or null when its
 * filesystem is not FAT. Errors: those of statfs, open and ioctl, thrown.
 */
export function readFatAttributes(sys: Sys, path: string): number | null {
  if (sys.statfs(path).type !== MSDOS_SUPER_MAGIC) return null;
  const fd = sys.openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  try {
    const v = new Uint8Array(4);
    sys.ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES, v);
    return new DataView(v.buffer).getUint32(0, true);
  } finally {
    sys.close(fd);
  }
}

function writeFatAttributes(sys: Sys, path: string, a: number): void {
  const fd = sys.openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  try {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, a, true);
    sys.ioctl(fd, FAT_IOCTL_SET_ATTRIBUTES, v);
  } finally {
    sys.close(fd);
  }
}

/** mattrib's line: "  A  SHR     path" (archive, then system, hidden, read-only). */
function mattribLine(a: number, shown: string): string {
  const c = (bit: number, ch: string): string => (a & bit ? ch : ' ');
  return `  ${c(ATTR_ARCH, 'A')}  ${c(ATTR_SYS, 'S')}${c(ATTR_HIDDEN, 'H')}${c(ATTR_RO, 'R')}     ${shown}`;
}

export function registerAttrib(p: Command): void {
  // The arguments are parsed here: "-h", "-a", "-r" and "-s" are attribute changes, not options.
  p.command('attrib')
    .description('show or change FAT attributes (+a -h +r -s …) inside an image, as mattrib')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]')
    .action(async (args: string[]) => {
      if (args.includes('--help')) {
        process.stdout.write(HELP);
        return;
      }
      let set = 0;
      let clear = 0;
      let json = false;
      const paths: string[] = [];
      for (const arg of args) {
        if (arg === '--json') json = true;
        else if (/^[+-][ahrsAHRS]+$/.test(arg)) {
          for (const ch of arg.slice(1).toLowerCase()) {
            const bit = ATTRS.find(([l]) => l === ch)![1];
            if (arg[0] === '+') set |= bit;
            else clear |= bit;
          }
        } else if (arg.startsWith('-')) throw new UsageError(`attrib: unknown option '${arg}' (attributes are +a -a +h -h +r -r +s -s)`);
        else paths.push(arg);
      }
      if (paths.length === 0) throw new UsageError('attrib: no IMAGE[:PART]:/path given');
      if (set & clear) throw new UsageError('attrib: an attribute both set and cleared');
      const change = set !== 0 || clear !== 0;
      if (change && json) throw new UsageError('attrib: --json only lists');
      const addrs = imageArgs(paths);
      process.exitCode = await inSession((s, status) => {
        const out: { path: string; fatAttributes: string[] }[] = [];
        for (const a of addrs) {
          let sys: Sys;
          let cur: number | null;
          try {
            sys = s.target(a, change).proc.sys;
            cur = readFatAttributes(sys, a.path);
            if (cur === null) throw Object.assign(new Error('not FAT'), { code: 'ENOTTY' });
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot(change ? 'change attributes of' : 'read attributes of', a.text, e));
            continue;
          }
          if (!change) {
            if (json) out.push({ path: a.text, fatAttributes: attributeNames(cur) });
            else process.stdout.write(mattribLine(cur, a.text) + '\n');
            continue;
          }
          try {
            writeFatAttributes(sys, a.path, (cur | set) & ~clear);
          } catch (e) {
            status.fail(cannot('change attributes of', a.text, e));
          }
        }
        if (json) printJson(out);
      });
    });
}
