// The File Allocation Table (FAT spec §4): the whole first FAT held in memory as its on-disk
// bytes, read and changed in place, with the changed sectors written to every FAT copy on
// flush (so the copies never differ). Keeps the free count and the next-free hint exactly,
// and allocates clusters next to a goal so files stay contiguous.

import type { BufferCache } from '../../block/buffer_cache.js';
import type { Geometry } from './boot_sector.js';
import { E, errno } from '../../kernel/errno.js';
import { EUCLEAN } from '../../abi/linux/errno.js';
import { FIRST_CLUSTER } from './layout.js';

/** Typed arrays use the machine's byte order; FAT's is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class FatTable {
  readonly type: 12 | 16 | 32;
  /** The first FAT's bytes. */
  readonly raw: Uint8Array;
  private readonly dv: DataView;
  /** Largest valid cluster number. */
  readonly maxCluster: number;
  /** Entries at or above this mean end of chain. */
  readonly eocMin: number;
  /** What an end-of-chain entry is written as. */
  readonly eoc: number;
  readonly bad: number;
  freeCount = 0;
  /** Where the next free-cluster search starts (FSInfo's FSI_Nxt_Free). */
  nextFree = FIRST_CLUSTER;
  /** Counts allocations and frees: data read ahead before a change may belong to someone else now. */
  generation = 0;
  private readonly dirty: Uint8Array;
  private anyDirty = false;

  constructor(
    private readonly geo: Geometry,
    raw: Uint8Array,
  ) {
    this.type = geo.type;
    this.raw = raw;
    this.dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    this.maxCluster = geo.clusterCount + 1;
    this.eocMin = geo.type === 12 ? 0xff8 : geo.type === 16 ? 0xfff8 : 0x0ffffff8;
    this.eoc = geo.type === 12 ? 0xfff : geo.type === 16 ? 0xffff : 0x0fffffff;
    this.bad = this.eocMin - 1;
    this.dirty = new Uint8Array(geo.fatSectors);
    let free = 0;
    if (this.type === 32 && LITTLE_ENDIAN && raw.byteOffset % 4 === 0) {
      // FAT32 (large FATs): whole entries through a 32-bit view, the top four bits masked off.
      const v = new Uint32Array(raw.buffer, raw.byteOffset, this.maxCluster + 1);
      for (let c = FIRST_CLUSTER; c <= this.maxCluster; c++) if ((v[c]! & 0x0fffffff) === 0) free++;
    } else for (let c = FIRST_CLUSTER; c <= this.maxCluster; c++) if (this.get(c) === 0) free++;
    this.freeCount = free;
  }

  /** Reads the first FAT of a volume through `cache`. Errors: EIO. */
  static load(geo: Geometry, cache: BufferCache): FatTable {
    const raw = new Uint8Array(geo.fatSectors * geo.bytesPerSector);
    cache.readRun(geo.reservedSectors, geo.fatSectors, raw, 0);
    return new FatTable(geo, raw);
  }

  /** The FAT entry of cluster `c` (FAT32's top four bits masked off, §4). */
  get(c: number): number {
    switch (this.type) {
      case 32:
        return this.dv.getUint32(c * 4, true) & 0x0fffffff;
      case 16:
        return this.dv.getUint16(c * 2, true);
      default: {
        const o = c + (c >> 1);
        const v = this.raw[o]! | (this.raw[o + 1]! << 8);
        return c & 1 ? v >> 4 : v & 0xfff;
      }
    }
  }

  /** Sets the entry of cluster `c`, keeping FAT32's reserved top bits. */
  set(c: number, v: number): void {
    const fresh = this.get(c) === 0;
    if (fresh && v !== 0) this.freeCount--;
    else if (!fresh && v === 0) this.freeCount++;
    let o: number;
    let len: number;
    switch (this.type) {
      case 32:
        o = c * 4;
        len = 4;
        this.dv.setUint32(o, (this.dv.getUint32(o, true) & 0xf0000000) | (v & 0x0fffffff), true);
        break;
      case 16:
        o = c * 2;
        len = 2;
        this.dv.setUint16(o, v, true);
        break;
      default: {
        o = c + (c >> 1);
        len = 2;
        const cur = this.raw[o]! | (this.raw[o + 1]! << 8);
        const nv = c & 1 ? (cur & 0x000f) | ((v & 0xfff) << 4) : (cur & 0xf000) | (v & 0xfff);
        this.raw[o] = nv & 0xff;
        this.raw[o + 1] = nv >> 8;
      }
    }
    const bps = this.geo.bytesPerSector;
    this.dirty[Math.floor(o / bps)] = 1;
    this.dirty[Math.floor((o + len - 1) / bps)] = 1;
    this.anyDirty = true;
  }

  isEoc(v: number): boolean {
    return v >= this.eocMin;
  }

  validCluster(c: number): boolean {
    return c >= FIRST_CLUSTER && c <= this.maxCluster;
  }

  /**
   * The clusters of the chain starting at `first` (empty for 0), at most `limit` of them.
   * Errors: EUCLEAN naming `what` for a link outside the volume, to a free or bad cluster,
   * or a chain longer than the volume or `limit` (a loop).
   */
  chain(first: number, what: string, limit = this.maxCluster): number[] {
    const out: number[] = [];
    if (first === 0) return out;
    let c = first;
    for (;;) {
      if (!this.validCluster(c)) throw errno(EUCLEAN, `vfat: ${what}: cluster chain points to invalid cluster ${c}`);
      out.push(c);
      if (out.length > limit) throw errno(EUCLEAN, `vfat: ${what}: cluster chain loops (or is longer than ${limit} clusters)`);
      const next = this.get(c);
      if (this.isEoc(next)) return out;
      if (next === 0 || next === this.bad) throw errno(EUCLEAN, `vfat: ${what}: cluster chain runs into ${next === 0 ? 'a free' : 'a bad'} cluster after ${c}`);
      c = next;
    }
  }

  /**
   * Allocates `n` clusters, linked in order and ended with EOC, preferring `goal` onwards
   * (the cluster after a file's last one keeps it contiguous). Errors: ENOSPC (nothing changed).
   */
  alloc(n: number, goal: number): number[] {
    if (n > this.freeCount) throw E.ENOSPC;
    const out: number[] = [];
    let c = this.validCluster(goal) ? goal : this.validCluster(this.nextFree) ? this.nextFree : FIRST_CLUSTER;
    const span = this.maxCluster - FIRST_CLUSTER + 1;
    for (let scanned = 0; out.length < n && scanned < span; scanned++) {
      if (this.get(c) === 0) out.push(c);
      c = c >= this.maxCluster ? FIRST_CLUSTER : c + 1;
    }
    if (out.length < n) throw errno(EUCLEAN, 'vfat: the free cluster count is wrong');
    this.generation++;
    for (let i = 0; i < n; i++) this.set(out[i]!, i + 1 < n ? out[i + 1]! : this.eoc);
    this.nextFree = c;
    return out;
  }

  /** Frees every cluster of `clusters`. */
  free(clusters: readonly number[]): void {
    this.generation++;
    for (const c of clusters) this.set(c, 0);
  }

  /** Writes changed sectors to every FAT copy (all of them, so the copies stay equal). */
  flush(cache: BufferCache): void {
    if (!this.anyDirty) return;
    const g = this.geo;
    const n = g.fatSectors;
    const copies = g.mirroringOff ? 1 : g.numFats;
    let i = 0;
    while (i < n) {
      if (!this.dirty[i]) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n && this.dirty[j]) j++;
      for (let k = 0; k < copies; k++) cache.writeRun(g.reservedSectors + k * n + i, j - i, this.raw, i * g.bytesPerSector);
      this.dirty.fill(0, i, j);
      i = j;
    }
    this.anyDirty = false;
  }
}
