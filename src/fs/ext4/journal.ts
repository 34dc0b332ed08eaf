// JBD2, the ext3/ext4 journal (§ Journal (jbd2)): replay of a journal left needing recovery —
// scan for committed transactions, collect revocations, copy logged blocks home — and the
// writer that logs each commit as one transaction, then checkpoints it and empties the log,
// each step durable before the next. A read-only device is replayed into an in-memory overlay.

import type { BlockDevice } from '../../block/block_device.js';
import type { BufferHead } from '../../block/buffer_cache.js';
import { EINVAL, EROFS } from '../../abi/linux/errno.js';
import { errno } from '../../kernel/errno.js';
import { loadBlockMap, loadExtentTree, type MapSource } from './bmap.js';
import { crc32c, crc32cBE32 } from './crc.js';
import type { FileMap } from './extent_map.js';
import {
  COMPAT_HAS_JOURNAL, DESC_SIZE_64BIT, EXT4_EXTENTS_FL, GD, GOOD_OLD_DESC_SIZE, INCOMPAT_64BIT, INCOMPAT_RECOVER, INO,
  JBD2_COMMIT_BLOCK, JBD2_DESCRIPTOR_BLOCK, JBD2_FEATURE_COMPAT_CHECKSUM, JBD2_FEATURE_INCOMPAT_64BIT,
  JBD2_FEATURE_INCOMPAT_CSUM_V2, JBD2_FEATURE_INCOMPAT_CSUM_V3, JBD2_FEATURE_INCOMPAT_FAST_COMMIT, JBD2_FLAG_ESCAPE,
  JBD2_FLAG_LAST_TAG, JBD2_FLAG_SAME_UUID, JBD2_HEADER_SIZE, JBD2_KNOWN_INCOMPAT, JBD2_MAGIC, JBD2_REVOKE_BLOCK,
  JBD2_SUPERBLOCK_SIZE, JBD2_SUPERBLOCK_V1, JBD2_CRC32C_CHKSUM, JBD2_SUPERBLOCK_V2, JBD2_TAIL_SIZE, JC, JH, JR, JSB, RO_COMPAT_METADATA_CSUM,
  SB, SUPERBLOCK_OFFSET, be32, corrupt, join, journalTagBytes, le16, le32, set32, setBe32, EXT2_GOOD_OLD_INODE_SIZE,
} from './layout.js';
import type { Ext4Fs } from './super.js';

/** Whether the superblock says the journal must be replayed before use. */
export function needsRecovery(sb: Uint8Array): boolean {
  return (le32(sb, SB.FEATURE_COMPAT) & COMPAT_HAS_JOURNAL) !== 0 && (le32(sb, SB.FEATURE_INCOMPAT) & INCOMPAT_RECOVER) !== 0;
}

/** A read-only device with replayed blocks laid over it in memory (recovery without writing). */
export class OverlayDevice implements BlockDevice {
  readonly sectorSize: number;
  readonly readOnly = true;
  private readonly blocks = new Map<number, Uint8Array>();
  private bs = 0;

  constructor(private readonly base: BlockDevice) {
    this.sectorSize = base.sectorSize;
  }

  get size(): number {
    return this.base.size;
  }

  /** Lays `data` (one filesystem block of `bs` bytes) over block `b`. */
  put(b: number, bs: number, data: Uint8Array): void {
    this.bs = bs;
    this.blocks.set(b, data.slice());
  }

  read(offset: number, into: Uint8Array): void {
    this.base.read(offset, into);
    if (this.blocks.size === 0) return;
    const bs = this.bs;
    const first = Math.floor(offset / bs);
    const last = Math.floor((offset + into.length - 1) / bs);
    for (let b = first; b <= last; b++) {
      const d = this.blocks.get(b);
      if (d === undefined) continue;
      const s = Math.max(offset, b * bs);
      const e = Math.min(offset + into.length, (b + 1) * bs);
      into.set(d.subarray(s - b * bs, e - b * bs), s - offset);
    }
  }

  write(offset: number, from: Uint8Array): void {
    // Only recovery writes here: whole blocks (and the 1 KiB superblock inside one).
    const bs = this.bs || 1024;
    let o = offset;
    while (o < offset + from.length) {
      const b = Math.floor(o / bs);
      const cur = this.blocks.get(b) ?? (() => {
        const x = new Uint8Array(bs);
        this.base.read(b * bs, x);
        return x;
      })();
      const e = Math.min(offset + from.length, (b + 1) * bs);
      cur.set(from.subarray(o - offset, e - offset), o - b * bs);
      this.blocks.set(b, cur);
      o = e;
    }
  }

  flush(): void {}
}

/** The journal's geometry and superblock, whoever reads it. */
interface JournalInfo {
  bs: number;
  /** Journal-logical → physical block map. */
  map: FileMap;
  jsb: Uint8Array;
  maxlen: number;
  first: number;
  incompat: number;
  seed: number;
  csum: boolean;
  csumV3: boolean;
  is64: boolean;
  tagBytes: number;
}

function physOf(map: FileMap, l: number): number {
  const i = map.find(l);
  if (i < 0) throw corrupt(`journal: hole at journal block ${l}`);
  const x = map.ext[i]!;
  return x.p + (l - x.l);
}

/** Reads and checks the journal superblock (journal block 0). */
function openInfo(map: FileMap, bs: number, read: (p: number, into: Uint8Array) => void, mappedBlocks: number): JournalInfo {
  const block0 = new Uint8Array(bs);
  read(physOf(map, 0), block0);
  const jsb = block0.slice(0, JBD2_SUPERBLOCK_SIZE);
  if (be32(jsb, JH.MAGIC) !== JBD2_MAGIC) throw corrupt('journal superblock: bad magic');
  const type = be32(jsb, JH.BLOCKTYPE);
  if (type !== JBD2_SUPERBLOCK_V1 && type !== JBD2_SUPERBLOCK_V2) throw corrupt(`journal superblock: block type ${type}`);
  if (be32(jsb, JSB.BLOCKSIZE) !== bs) throw corrupt(`journal superblock: block size ${be32(jsb, JSB.BLOCKSIZE)} differs from the filesystem's ${bs}`);
  const maxlen = be32(jsb, JSB.MAXLEN);
  const first = be32(jsb, JSB.FIRST);
  if (maxlen > mappedBlocks || maxlen < 8) throw corrupt(`journal superblock: ${maxlen} blocks but the journal inode maps ${mappedBlocks}`);
  if (first < 1 || first >= maxlen) throw corrupt(`journal superblock: first log block ${first}`);
  const incompat = type === JBD2_SUPERBLOCK_V2 ? be32(jsb, JSB.FEATURE_INCOMPAT) : 0;
  const csum = (incompat & (JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_CSUM_V3)) !== 0;
  if (csum) {
    if (jsb[JSB.CHECKSUM_TYPE] !== JBD2_CRC32C_CHKSUM) throw corrupt(`journal superblock: checksum type ${jsb[JSB.CHECKSUM_TYPE]}`);
    const want = be32(jsb, JSB.CHECKSUM);
    const copy = jsb.slice();
    setBe32(copy, JSB.CHECKSUM, 0);
    if (crc32c(0xffffffff, copy) !== want) throw corrupt('journal superblock checksum mismatch');
  }
  return {
    bs, map, jsb, maxlen, first, incompat,
    seed: crc32c(0xffffffff, jsb, JSB.UUID, JSB.UUID + 16),
    csum,
    csumV3: (incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3) !== 0,
    is64: (incompat & JBD2_FEATURE_INCOMPAT_64BIT) !== 0,
    tagBytes: journalTagBytes(incompat),
  };
}

/** Block-level checksum over `b` with bytes [at, at+4) taken as zero. */
function csumWithHole(seed: number, b: Uint8Array, at: number): number {
  let c = crc32c(seed, b, 0, at);
  c = crc32c(c, ZERO4);
  return crc32c(c, b, at + 4, b.length);
}
const ZERO4 = new Uint8Array(4);

interface Tag {
  block: number;
  flags: number;
  csum: number;
}

function parseTags(d: Uint8Array, j: JournalInfo): Tag[] {
  const tags: Tag[] = [];
  const end = j.bs - (j.csum ? JBD2_TAIL_SIZE : 0);
  let o = JBD2_HEADER_SIZE;
  while (o + j.tagBytes <= end) {
    let block: number;
    let flags: number;
    let csum: number;
    if (j.csumV3) {
      block = be32(d, o);
      flags = be32(d, o + 4);
      block += j.is64 ? be32(d, o + 8) * 0x100000000 : 0;
      csum = be32(d, o + 12);
    } else {
      block = be32(d, o);
      csum = (d[o + 4]! << 8) | d[o + 5]!;
      flags = (d[o + 6]! << 8) | d[o + 7]!;
      if (j.is64) block += be32(d, o + 8) * 0x100000000;
    }
    o += j.tagBytes;
    if (!(flags & JBD2_FLAG_SAME_UUID)) o += 16;
    tags.push({ block, flags, csum });
    if (flags & JBD2_FLAG_LAST_TAG) break;
  }
  return tags;
}

/**
 * Replays the journal of the filesystem whose superblock is `sb` onto `device` (an
 * OverlayDevice for read-only devices), then marks the journal empty and clears the recovery
 * flag. Errors: EUCLEAN for a corrupt journal (naming the block), EIO.
 */
export function replayJournal(device: BlockDevice, sb: Uint8Array): void {
  const bs = 1024 << le32(sb, SB.LOG_BLOCK_SIZE);
  if (bs > 65536) throw corrupt('superblock: block size');
  if (le32(sb, SB.JOURNAL_DEV) !== 0 && le32(sb, SB.JOURNAL_INUM) === 0) throw errno(EROFS, 'ext4: the journal needs recovery and is on an external device, which tkl does not support');
  const jino = le32(sb, SB.JOURNAL_INUM);
  const blocksCount = join(le32(sb, SB.BLOCKS_COUNT_LO), le32(sb, SB.FEATURE_INCOMPAT) & INCOMPAT_64BIT ? le32(sb, SB.BLOCKS_COUNT_HI) : 0);
  const firstData = le32(sb, SB.FIRST_DATA_BLOCK);
  const readPhys = (p: number, into: Uint8Array): void => {
    if (p < firstData || p >= blocksCount) throw corrupt(`journal: block ${p} lies outside the filesystem`);
    device.read(p * bs, into);
  };
  // The journal inode, found without the rest of the filesystem.
  const ipg = le32(sb, SB.INODES_PER_GROUP);
  const isz = le32(sb, SB.REV_LEVEL) === 0 ? EXT2_GOOD_OLD_INODE_SIZE : le16(sb, SB.INODE_SIZE);
  const descSize = le32(sb, SB.FEATURE_INCOMPAT) & INCOMPAT_64BIT ? le16(sb, SB.DESC_SIZE) : GOOD_OLD_DESC_SIZE;
  if (jino < 1 || ipg < 1 || isz < 128 || isz > bs || descSize < 32 || descSize > bs) throw corrupt('journal: bad geometry in the superblock');
  const g = Math.floor((jino - 1) / ipg);
  const perBlock = bs / descSize;
  const gdBlock = firstData + 1 + Math.floor(g / perBlock);
  const gdData = new Uint8Array(bs);
  readPhys(gdBlock, gdData);
  const go = (g % perBlock) * descSize;
  const itable = join(le32(gdData, go + GD.INODE_TABLE_LO), descSize >= DESC_SIZE_64BIT ? le32(gdData, go + GD.INODE_TABLE_HI) : 0);
  const byte = ((jino - 1) % ipg) * isz;
  const itData = new Uint8Array(bs);
  readPhys(itable + Math.floor(byte / bs), itData);
  const raw = itData.slice(byte % bs, (byte % bs) + isz);
  const src: MapSource = {
    blockSize: bs, blocksCount, firstDataBlock: firstData, hasCsum: false,
    readBlock: (b) => {
      const d = new Uint8Array(bs);
      readPhys(b, d);
      return d;
    },
  };
  const iblock = raw.subarray(INO.BLOCK, INO.BLOCK + 60);
  const sizeBlocks = Math.ceil((le32(raw, INO.SIZE_LO) + le32(raw, INO.SIZE_HIGH) * 0x100000000) / bs);
  const maxTree = Math.min(blocksCount, sizeBlocks + 64);
  const loaded = le32(raw, INO.FLAGS) & EXT4_EXTENTS_FL ? loadExtentTree(src, jino, iblock, 0, maxTree) : loadBlockMap(src, jino, iblock, maxTree);
  const j = openInfo(loaded.map, bs, readPhys, loaded.map.mappedBlocks);
  if (j.incompat & ~JBD2_KNOWN_INCOMPAT) throw corrupt(`journal: unknown incompat features 0x${(j.incompat & ~JBD2_KNOWN_INCOMPAT).toString(16)}`);

  const start = be32(j.jsb, JSB.START);
  let endSeq = be32(j.jsb, JSB.SEQUENCE);
  if (start !== 0 && j.incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT) {
    // Fast-commit blocks hold changes the regular log does not: replaying only the log would
    // silently lose them.
    throw errno(EINVAL, 'ext4: the journal needs a fast-commit replay, which tkl does not do (run e2fsck first)');
  }
  if (start !== 0) {
    if (start < j.first || start >= j.maxlen) throw corrupt(`journal superblock: log start ${start} outside [${j.first}, ${j.maxlen})`);
    const usable = j.maxlen - (j.incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT ? be32(j.jsb, JSB.NUM_FC_BLKS) || 256 : 0);
    const readJ = (l: number): Uint8Array => {
      const d = new Uint8Array(bs);
      readPhys(physOf(j.map, l), d);
      return d;
    };
    const next = (l: number, n: number): number => {
      let r = l + n;
      while (r >= usable) r -= usable - j.first;
      return r;
    };
    // Pass 1: find the end of the log (the first transaction without a valid commit).
    const startSeq = be32(j.jsb, JSB.SEQUENCE);
    const walk = (fn: (seq: number, l: number, d: Uint8Array, type: number) => void): number => {
      let seq = startSeq;
      let l = start;
      for (let steps = 0; steps <= usable; steps++) {
        const d = readJ(l);
        if (be32(d, JH.MAGIC) !== JBD2_MAGIC || be32(d, JH.SEQUENCE) !== seq >>> 0) break;
        const type = be32(d, JH.BLOCKTYPE);
        if (type === JBD2_DESCRIPTOR_BLOCK) {
          if (j.csum && be32(d, bs - 4) !== csumWithHole(j.seed, d, bs - 4)) break;
          const tags = parseTags(d, j);
          fn(seq, l, d, type);
          l = next(l, 1 + tags.length);
          steps += tags.length;
          continue;
        }
        if (type === JBD2_COMMIT_BLOCK) {
          if (j.csum && be32(d, JC.CHKSUM) !== csumWithHole(j.seed, d, JC.CHKSUM)) break;
          fn(seq, l, d, type);
          seq = (seq + 1) >>> 0;
          l = next(l, 1);
          continue;
        }
        if (type === JBD2_REVOKE_BLOCK) {
          if (j.csum && be32(d, bs - 4) !== csumWithHole(j.seed, d, bs - 4)) break;
          fn(seq, l, d, type);
          l = next(l, 1);
          continue;
        }
        break;
      }
      return seq;
    };
    endSeq = walk(() => {});
    // Pass 2: revocations of committed transactions (block → latest revoking sequence).
    const revoked = new Map<number, number>();
    walk((seq, _l, d, type) => {
      if (type !== JBD2_REVOKE_BLOCK || !seqBefore(seq, endSeq)) return;
      const used = be32(d, JR.COUNT);
      const rec = j.is64 ? 8 : 4;
      if (used < JR.RECORDS || used > bs - (j.csum ? 4 : 0)) throw corrupt(`journal: revoke block with ${used} bytes`);
      for (let o = JR.RECORDS; o + rec <= used; o += rec) {
        const b = j.is64 ? be32(d, o) * 0x100000000 + be32(d, o + 4) : be32(d, o);
        const cur = revoked.get(b);
        if (cur === undefined || seqBefore(cur, seq)) revoked.set(b, seq);
      }
    });
    // Pass 3: the logged blocks of committed transactions, latest copy wins.
    const writes = new Map<number, Uint8Array>();
    walk((seq, l, d, type) => {
      if (type !== JBD2_DESCRIPTOR_BLOCK || !seqBefore(seq, endSeq)) return;
      const tags = parseTags(d, j);
      tags.forEach((t, i) => {
        const r = revoked.get(t.block);
        if (r !== undefined && !seqBefore(r, seq)) return;
        const data = readJ(next(l, 1 + i));
        if (j.csum) {
          const c = crc32c(crc32cBE32(j.seed, seq), data);
          if ((j.csumV3 ? c >>> 0 : c & 0xffff) !== t.csum) throw corrupt(`journal: checksum mismatch for the copy of block ${t.block} in transaction ${seq}`);
        }
        if (t.flags & JBD2_FLAG_ESCAPE) setBe32(data, 0, JBD2_MAGIC);
        if (t.block < firstData || t.block >= blocksCount) throw corrupt(`journal: transaction ${seq} logs block ${t.block}, outside the filesystem`);
        writes.set(t.block, data);
      });
    });
    const sorted = [...writes.keys()].sort((a, b) => a - b);
    for (const b of sorted) {
      if (device instanceof OverlayDevice) device.put(b, bs, writes.get(b)!);
      else device.write(b * bs, writes.get(b)!);
    }
    device.flush();
  }
  // The log is empty now; the next transaction gets a sequence number past every one seen.
  const jsb = j.jsb;
  setBe32(jsb, JSB.START, 0);
  setBe32(jsb, JSB.SEQUENCE, (endSeq + 1) >>> 0);
  writeJsb(device, j, jsb);
  // The superblock (maybe just replayed) loses its recovery flag.
  const sbNow = new Uint8Array(1024);
  device.read(SUPERBLOCK_OFFSET, sbNow);
  set32(sbNow, SB.FEATURE_INCOMPAT, le32(sbNow, SB.FEATURE_INCOMPAT) & ~INCOMPAT_RECOVER);
  if (le32(sbNow, SB.FEATURE_RO_COMPAT) & RO_COMPAT_METADATA_CSUM) set32(sbNow, SB.CHECKSUM, crc32c(0xffffffff, sbNow, 0, SB.CHECKSUM));
  if (device instanceof OverlayDevice) {
    const blk = Math.floor(SUPERBLOCK_OFFSET / bs);
    const whole = new Uint8Array(bs);
    device.read(blk * bs, whole);
    whole.set(sbNow, SUPERBLOCK_OFFSET % bs);
    device.put(blk, bs, whole);
  } else device.write(SUPERBLOCK_OFFSET, sbNow);
  device.flush();
}

/** JBD2 sequence numbers compare modulo 2^32. */
function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

function writeJsb(device: BlockDevice, j: JournalInfo, jsb: Uint8Array): void {
  if (j.csum) {
    setBe32(jsb, JSB.CHECKSUM, 0);
    setBe32(jsb, JSB.CHECKSUM, crc32c(0xffffffff, jsb));
  }
  const p = physOf(j.map, 0);
  if (device instanceof OverlayDevice) {
    const whole = new Uint8Array(j.bs);
    device.read(p * j.bs, whole);
    whole.set(jsb, 0);
    device.put(p, j.bs, whole);
  } else device.write(p * j.bs, jsb);
}

/** The mounted filesystem's journal: logs each commit as one transaction. */
export class Journal {
  private sequence: number;
  /** Blocks one transaction may use (data blocks plus descriptors and the commit record). */
  readonly capacity: number;
  readonly totalBlocks: number;
  private readonly tagsPerDesc: number;
  /** Blocks logged through the journal since mount (for statistics and tests). */
  logged = 0;

  private constructor(
    private readonly fs: Ext4Fs,
    private readonly j: JournalInfo,
  ) {
    this.sequence = be32(j.jsb, JSB.SEQUENCE);
    const fc = j.incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT ? be32(j.jsb, JSB.NUM_FC_BLKS) || 256 : 0;
    this.capacity = j.maxlen - fc - j.first;
    this.totalBlocks = j.map.mappedBlocks;
    this.tagsPerDesc = Math.floor((j.bs - JBD2_HEADER_SIZE - (j.csum ? JBD2_TAIL_SIZE : 0) - 16) / j.tagBytes);
  }

  /** Opens the journal of a mounted filesystem. Errors: EUCLEAN, EROFS (a journal this code cannot write). */
  static open(fs: Ext4Fs): Journal {
    const inode = fs.iget(fs.journalIno);
    const map = inode.map();
    const j = openInfo(map, fs.blockSize, (p, into) => fs.cache.readRun(p, 1, into, 0), map.mappedBlocks);
    const journal = new Journal(fs, j);
    if (!fs.readOnly) journal.checkWritable();
    return journal;
  }

  /** Whether tkl can log transactions in this journal. Errors: EROFS saying why not. */
  checkWritable(): void {
    const j = this.j;
    if (j.incompat & ~JBD2_KNOWN_INCOMPAT) throw errno(EROFS, `ext4: journal has unknown features 0x${j.incompat.toString(16)}; mount it read-only`);
    if (be32(j.jsb, JSB.FEATURE_COMPAT) & JBD2_FEATURE_COMPAT_CHECKSUM) throw errno(EROFS, 'ext4: journal uses v1 checksums, which tkl does not write; mount it read-only');
    if (be32(j.jsb, JSB.START) !== 0) throw errno(EROFS, 'ext4: journal is not empty; it needs recovery');
  }

  /**
   * Makes `dirty` (the commit's metadata blocks) durable as one transaction, then writes them
   * in place and empties the log. Errors: EIO.
   */
  commitBlocks(dirty: BufferHead[]): void {
    const j = this.j;
    const bs = j.bs;
    const fs = this.fs;
    const dev = fs.device;
    const n = dirty.length;
    if (n === 0) return;
    const ndesc = Math.ceil(n / this.tagsPerDesc);
    if (ndesc + n + 1 > this.capacity) {
      // Too big for one transaction: split into several, each consistent only with the
      // rest; a crash between them needs e2fsck. The commit threshold keeps this rare.
      const half = Math.floor(n / 2);
      this.commitBlocks(dirty.slice(0, half));
      this.commitBlocks(dirty.slice(half));
      return;
    }
    const seq = this.sequence;
    const log = new Uint8Array((ndesc + n) * bs);
    let w = 0;
    for (let d = 0; d < ndesc; d++) {
      const part = dirty.slice(d * this.tagsPerDesc, (d + 1) * this.tagsPerDesc);
      const desc = log.subarray(w * bs, (w + 1) * bs);
      setBe32(desc, JH.MAGIC, JBD2_MAGIC);
      setBe32(desc, JH.BLOCKTYPE, JBD2_DESCRIPTOR_BLOCK);
      setBe32(desc, JH.SEQUENCE, seq);
      let o = JBD2_HEADER_SIZE;
      part.forEach((bh, i) => {
        const data = log.subarray((w + 1 + i) * bs, (w + 2 + i) * bs);
        data.set(bh.data);
        let flags = i === 0 ? 0 : JBD2_FLAG_SAME_UUID;
        if (i === part.length - 1) flags |= JBD2_FLAG_LAST_TAG;
        if (be32(data, 0) === JBD2_MAGIC) {
          // A block that looks like a journal block is logged with its magic zeroed.
          setBe32(data, 0, 0);
          flags |= JBD2_FLAG_ESCAPE;
        }
        const c = j.csum ? crc32c(crc32cBE32(j.seed, seq), bh.data) : 0;
        if (j.csumV3) {
          setBe32(desc, o, bh.block >>> 0);
          setBe32(desc, o + 4, flags);
          setBe32(desc, o + 8, j.is64 ? Math.floor(bh.block / 0x100000000) : 0);
          setBe32(desc, o + 12, c);
        } else {
          setBe32(desc, o, bh.block >>> 0);
          desc[o + 4] = j.csum ? (c >>> 8) & 0xff : 0;
          desc[o + 5] = j.csum ? c & 0xff : 0;
          desc[o + 6] = (flags >>> 8) & 0xff;
          desc[o + 7] = flags & 0xff;
          if (j.is64) setBe32(desc, o + 8, Math.floor(bh.block / 0x100000000));
        }
        o += j.tagBytes;
        if (i === 0) {
          desc.set(j.jsb.subarray(JSB.UUID, JSB.UUID + 16), o);
          o += 16;
        }
      });
      if (j.csum) setBe32(desc, bs - 4, csumWithHole(j.seed, desc, bs - 4));
      w += 1 + part.length;
    }
    // 1. The logged blocks, durable.
    this.writeLog(j.first, log);
    dev.flush();
    // 2. The commit record and the journal superblock pointing at the transaction.
    const commit = new Uint8Array(bs);
    setBe32(commit, JH.MAGIC, JBD2_MAGIC);
    setBe32(commit, JH.BLOCKTYPE, JBD2_COMMIT_BLOCK);
    setBe32(commit, JH.SEQUENCE, seq);
    const now = fs.clock.now();
    setBe32(commit, JC.COMMIT_SEC, Math.floor(now.sec / 0x100000000));
    setBe32(commit, JC.COMMIT_SEC + 4, now.sec >>> 0);
    setBe32(commit, JC.COMMIT_NSEC, now.nsec);
    if (j.csum) setBe32(commit, JC.CHKSUM, csumWithHole(j.seed, commit, JC.CHKSUM));
    this.writeLog(j.first + ndesc + n, commit);
    setBe32(j.jsb, JSB.START, j.first);
    setBe32(j.jsb, JSB.SEQUENCE, seq);
    writeJsb(dev, j, j.jsb);
    dev.flush();
    // 3. Checkpoint: the blocks in place.
    fs.cache.sync();
    dev.flush();
    // 4. The log is empty again.
    this.sequence = (seq + 1) >>> 0;
    setBe32(j.jsb, JSB.START, 0);
    setBe32(j.jsb, JSB.SEQUENCE, this.sequence);
    writeJsb(dev, j, j.jsb);
    dev.flush();
    this.logged += n;
  }

  /** Writes consecutive journal blocks from logical block `l`, in physically contiguous runs. */
  private writeLog(l: number, data: Uint8Array): void {
    const bs = this.j.bs;
    const count = data.length / bs;
    let i = 0;
    while (i < count) {
      const p = physOf(this.j.map, l + i);
      let k = 1;
      while (i + k < count && physOf(this.j.map, l + i + k) === p + k) k++;
      this.fs.device.write(p * bs, data.subarray(i * bs, (i + k) * bs));
      i += k;
    }
  }
}
