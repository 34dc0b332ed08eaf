// Reading and writing a file's block map in its two on-disk forms: the extent tree (§ Extent
// Tree) and the classic direct/indirect block map (§ Direct/Indirect Block Addressing). Both are
// read whole into a FileMap; writing rebuilds the on-disk form from the FileMap, packing extent
// leaves full so the tree is as shallow and narrow as e2fsck wants it.

import { crc32c } from './crc.js';
import { FileMap } from './extent_map.js';
import {
  EE, EH, EI, EXT4_EXT_MAGIC, EXT_ENTRY_SIZE, EXT_HEADER_SIZE, EXT_INIT_MAX_LEN, EXT_MAX_DEPTH, I_BLOCK_SIZE,
  N_DIRECT, corrupt, le16, le32, set16, set32,
} from './layout.js';

/** What the map readers need from the filesystem. */
export interface MapSource {
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly firstDataBlock: number;
  /** Whether metadata_csum is on (extent blocks carry a checksum). */
  readonly hasCsum: boolean;
  /** A metadata block's bytes (cached). Errors: EIO. */
  readBlock(b: number): Uint8Array;
}

export interface LoadedMap {
  map: FileMap;
  /** Blocks of the on-disk tree (extent index/leaf blocks, or indirect blocks). */
  tree: number[];
}

function inFs(src: MapSource, b: number, len: number): boolean {
  return b >= src.firstDataBlock && b + len <= src.blocksCount && len > 0;
}

/**
 * Reads an extent tree rooted in i_block. `maxTree` bounds the number of tree blocks (from
 * i_blocks), so a corrupt tree cannot make the walk unbounded. Errors: EUCLEAN naming the
 * inode and block, EIO.
 */
export function loadExtentTree(src: MapSource, ino: number, iblock: Uint8Array, seed: number, maxTree: number): LoadedMap {
  const map = new FileMap();
  const tree: number[] = [];
  const seen = new Set<number>();
  const bs = src.blockSize;
  const perBlock = Math.floor((bs - EXT_HEADER_SIZE) / EXT_ENTRY_SIZE);
  let nextL = 0;

  const walk = (node: Uint8Array, base: number, where: string, depth: number, max: number, lo: number, hi: number): void => {
    if (le16(node, base + EH.MAGIC) !== EXT4_EXT_MAGIC) throw corrupt(`inode ${ino}: ${where}: bad extent header magic`);
    const entries = le16(node, base + EH.ENTRIES);
    const emax = le16(node, base + EH.MAX);
    const d = le16(node, base + EH.DEPTH);
    if (emax > max || entries > emax) throw corrupt(`inode ${ino}: ${where}: extent header claims ${entries}/${emax} entries (room for ${max})`);
    if (d !== depth) throw corrupt(`inode ${ino}: ${where}: extent depth ${d}, expected ${depth}`);
    for (let i = 0; i < entries; i++) {
      const o = base + EXT_HEADER_SIZE + i * EXT_ENTRY_SIZE;
      const l = le32(node, o + EE.BLOCK);
      if (l < lo || l >= hi) throw corrupt(`inode ${ino}: ${where}: entry ${i} starts at logical block ${l}, outside its parent's range`);
      if (depth === 0) {
        let len = le16(node, o + EE.LEN);
        const u = len > EXT_INIT_MAX_LEN;
        if (u) len -= EXT_INIT_MAX_LEN;
        const p = le16(node, o + EE.START_HI) * 0x100000000 + le32(node, o + EE.START_LO);
        if (len === 0) throw corrupt(`inode ${ino}: ${where}: zero-length extent`);
        if (l < nextL) throw corrupt(`inode ${ino}: ${where}: extent at logical ${l} overlaps the previous one`);
        if (!inFs(src, p, len)) throw corrupt(`inode ${ino}: ${where}: extent ${l}+${len} points at blocks ${p}..${p + len - 1}, outside the filesystem`);
        if (l + len > 2 ** 32) throw corrupt(`inode ${ino}: ${where}: extent past the largest logical block`);
        map.push(l, len, p, u);
        nextL = l + len;
      } else {
        const child = le16(node, o + EI.LEAF_HI) * 0x100000000 + le32(node, o + EI.LEAF_LO);
        const nextBound = i + 1 < entries ? le32(node, o + EXT_ENTRY_SIZE + EI.BLOCK) : hi;
        if (nextBound <= l && i + 1 < entries) throw corrupt(`inode ${ino}: ${where}: index entries out of order`);
        if (!inFs(src, child, 1)) throw corrupt(`inode ${ino}: ${where}: index points at block ${child}, outside the filesystem`);
        if (seen.has(child)) throw corrupt(`inode ${ino}: extent block ${child} referenced twice`);
        if (seen.size >= maxTree) throw corrupt(`inode ${ino}: extent tree larger than its i_blocks allows`);
        seen.add(child);
        tree.push(child);
        const data = src.readBlock(child);
        if (src.hasCsum) {
          const t = EXT_HEADER_SIZE + le16(data, EH.MAX) * EXT_ENTRY_SIZE;
          if (t + 4 <= bs && le32(data, t) !== crc32c(seed, data, 0, t)) {
            throw corrupt(`inode ${ino}: extent block ${child} checksum mismatch`);
          }
        }
        walk(data, 0, `extent block ${child}`, depth - 1, perBlock, l, nextBound);
      }
    }
  };

  const depth = le16(iblock, EH.DEPTH);
  if (le16(iblock, EH.MAGIC) !== EXT4_EXT_MAGIC) throw corrupt(`inode ${ino}: bad extent header magic in the inode`);
  if (depth > EXT_MAX_DEPTH) throw corrupt(`inode ${ino}: extent tree depth ${depth}`);
  walk(iblock, 0, 'extent root', depth, (I_BLOCK_SIZE - EXT_HEADER_SIZE) / EXT_ENTRY_SIZE, 0, 2 ** 32);
  return { map, tree };
}

/**
 * Reads a direct/indirect block map. Pointers equal to zero are holes. Errors: EUCLEAN for a
 * pointer outside the filesystem or an indirect block used twice, EIO.
 */
export function loadBlockMap(src: MapSource, ino: number, iblock: Uint8Array, maxTree: number): LoadedMap {
  const map = new FileMap();
  const tree: number[] = [];
  const seen = new Set<number>();
  const per = src.blockSize / 4;
  for (let i = 0; i < N_DIRECT; i++) {
    const p = le32(iblock, i * 4);
    if (p === 0) continue;
    if (!inFs(src, p, 1)) throw corrupt(`inode ${ino}: block pointer ${i} = ${p} lies outside the filesystem`);
    map.push(i, 1, p, false);
  }
  const walk = (blk: number, level: number, base: number): void => {
    if (!inFs(src, blk, 1)) throw corrupt(`inode ${ino}: indirect block ${blk} lies outside the filesystem`);
    if (seen.has(blk)) throw corrupt(`inode ${ino}: indirect block ${blk} referenced twice`);
    if (seen.size >= maxTree) throw corrupt(`inode ${ino}: more indirect blocks than its i_blocks allows`);
    seen.add(blk);
    tree.push(blk);
    const data = src.readBlock(blk).slice();
    const span = per ** (level - 1);
    for (let i = 0; i < per; i++) {
      const p = le32(data, i * 4);
      if (p === 0) continue;
      if (level === 1) {
        if (!inFs(src, p, 1)) throw corrupt(`inode ${ino}: indirect block ${blk} entry ${i} = ${p} lies outside the filesystem`);
        map.push(base + i, 1, p, false);
      } else walk(p, level - 1, base + i * span);
    }
  };
  let base = N_DIRECT;
  for (let level = 1; level <= 3; level++) {
    const p = le32(iblock, (N_DIRECT + level - 1) * 4);
    if (p !== 0) walk(p, level, base);
    base += per ** level;
  }
  return { map, tree };
}

/** What the map writers need: block allocation and dirty-marking. */
export interface MapSink extends MapSource {
  /** Allocates one block near `goal` for tree metadata. Errors: ENOSPC. */
  allocMeta(goal: number): number;
  /** Frees a tree block (after the next commit). */
  freeMeta(b: number): void;
  /** A zeroed block for complete overwriting, marked dirty, with its checksum kept at commit. */
  writeTreeBlock(b: number, fill: (data: Uint8Array) => void, extentCsum: boolean): void;
}

/**
 * Writes `map` as an extent tree: into i_block when it has at most four extents, else as packed
 * leaves under as few index levels as needed. Reuses `oldTree` blocks first. Returns the new
 * tree blocks. Errors: ENOSPC.
 */
export function writeExtentTree(sink: MapSink, map: FileMap, iblock: Uint8Array, oldTree: readonly number[], generation: number): number[] {
  const ext = map.ext;
  const bs = sink.blockSize;
  const per = Math.floor((bs - EXT_HEADER_SIZE) / EXT_ENTRY_SIZE);
  const rootMax = (I_BLOCK_SIZE - EXT_HEADER_SIZE) / EXT_ENTRY_SIZE;
  iblock.fill(0);
  if (ext.length <= rootMax) {
    writeHeader(iblock, 0, ext.length, rootMax, 0, 0);
    ext.forEach((x, i) => writeLeafEntry(iblock, EXT_HEADER_SIZE + i * EXT_ENTRY_SIZE, x.l, x.len, x.p, x.u));
    for (const b of oldTree) sink.freeMeta(b);
    return [];
  }
  // Level sizes from the leaves up until the root can hold the top level.
  const counts = [Math.ceil(ext.length / per)];
  while (counts[counts.length - 1]! > rootMax) counts.push(Math.ceil(counts[counts.length - 1]! / per));
  const need = counts.reduce((a, b) => a + b, 0);
  const blocks = oldTree.slice(0, need);
  for (const b of oldTree.slice(need)) sink.freeMeta(b);
  let goal = ext[0]!.p;
  while (blocks.length < need) {
    const b = sink.allocMeta(goal);
    blocks.push(b);
    goal = b + 1;
  }
  let k = 0;
  // Leaves.
  let level: { l: number; b: number }[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const b = blocks[k++]!;
    const part = ext.slice(i * per, (i + 1) * per);
    sink.writeTreeBlock(b, (d) => {
      writeHeader(d, 0, part.length, per, 0, generation);
      part.forEach((x, j) => writeLeafEntry(d, EXT_HEADER_SIZE + j * EXT_ENTRY_SIZE, x.l, x.len, x.p, x.u));
    }, true);
    level.push({ l: part[0]!.l, b });
  }
  // Index levels.
  for (let depth = 1; depth < counts.length; depth++) {
    const next: { l: number; b: number }[] = [];
    for (let i = 0; i < counts[depth]!; i++) {
      const b = blocks[k++]!;
      const part = level.slice(i * per, (i + 1) * per);
      sink.writeTreeBlock(b, (d) => {
        writeHeader(d, 0, part.length, per, depth, generation);
        part.forEach((x, j) => writeIndexEntry(d, EXT_HEADER_SIZE + j * EXT_ENTRY_SIZE, x.l, x.b));
      }, true);
      next.push({ l: part[0]!.l, b });
    }
    level = next;
  }
  writeHeader(iblock, 0, level.length, rootMax, counts.length, 0);
  level.forEach((x, j) => writeIndexEntry(iblock, EXT_HEADER_SIZE + j * EXT_ENTRY_SIZE, x.l, x.b));
  return blocks;
}

function writeHeader(d: Uint8Array, o: number, entries: number, max: number, depth: number, gen: number): void {
  set16(d, o + EH.MAGIC, EXT4_EXT_MAGIC);
  set16(d, o + EH.ENTRIES, entries);
  set16(d, o + EH.MAX, max);
  set16(d, o + EH.DEPTH, depth);
  set32(d, o + EH.GENERATION, gen);
}

function writeLeafEntry(d: Uint8Array, o: number, l: number, len: number, p: number, u: boolean): void {
  set32(d, o + EE.BLOCK, l);
  set16(d, o + EE.LEN, u ? len + EXT_INIT_MAX_LEN : len);
  set16(d, o + EE.START_HI, Math.floor(p / 0x100000000));
  set32(d, o + EE.START_LO, p >>> 0);
}

function writeIndexEntry(d: Uint8Array, o: number, l: number, b: number): void {
  set32(d, o + EI.BLOCK, l);
  set32(d, o + EI.LEAF_LO, b >>> 0);
  set16(d, o + EI.LEAF_HI, Math.floor(b / 0x100000000));
  set16(d, o + 10, 0);
}

/**
 * Writes `map` as a direct/indirect block map, reusing `oldTree` blocks first. Returns the
 * indirect blocks now in use. Errors: EFBIG past triple indirection, ENOSPC.
 */
export function writeBlockMap(sink: MapSink, map: FileMap, iblock: Uint8Array, oldTree: readonly number[]): number[] {
  const per = sink.blockSize / 4;
  iblock.fill(0);
  const reuse = oldTree.slice();
  const used: number[] = [];
  const pending = new Map<number, Uint8Array>();
  let goal = map.ext[0]?.p ?? -1;
  const getBlock = (): number => {
    const b = reuse.length > 0 ? reuse.shift()! : sink.allocMeta(goal);
    goal = b + 1;
    used.push(b);
    pending.set(b, new Uint8Array(sink.blockSize));
    return b;
  };
  // Path to logical block l: returns the array and index where its pointer goes.
  const slot = (l: number): { arr: Uint8Array; idx: number } => {
    if (l < N_DIRECT) return { arr: iblock, idx: l };
    let rel = l - N_DIRECT;
    let level = 1;
    let span = per;
    while (rel >= span) {
      rel -= span;
      level++;
      span *= per;
      if (level > 3) throw new RangeError('EFBIG');
    }
    let arr = iblock;
    let idx = N_DIRECT + level - 1;
    for (let lv = level; lv >= 1; lv--) {
      let b = le32(arr, idx * 4);
      if (b === 0) {
        b = getBlock();
        set32(arr, idx * 4, b);
      }
      arr = pending.get(b)!;
      const sub = per ** (lv - 1);
      idx = Math.floor(rel / sub);
      rel %= sub;
    }
    return { arr, idx };
  };
  for (const x of map.ext) {
    for (let i = 0; i < x.len; i++) {
      const s = slot(x.l + i);
      set32(s.arr, s.idx * 4, x.p + i);
    }
  }
  for (const b of reuse) sink.freeMeta(b);
  for (const [b, data] of pending) sink.writeTreeBlock(b, (d) => d.set(data), false);
  return used;
}

/** Number of indirect blocks a block map needs to map logical block `l` (for EFBIG checks). */
export function blockMapLimit(blockSize: number): number {
  const per = blockSize / 4;
  return N_DIRECT + per + per * per + per * per * per;
}
