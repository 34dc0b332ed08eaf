// ByteRing: a single-producer, single-consumer byte queue in a SharedArrayBuffer, through
// which one thread hands input to another (a terminal's or pipe's bytes to a WASI program's
// stdin). Indexes are free-running 32-bit counters published with Atomics, so neither side
// ever blocks the other; the consumer notifies HEAD when it frees space, and sets WANT the
// first time it finds the ring empty (so a producer can start reading only on demand).

const HEAD = 0;
const TAIL = 1;
const CLOSED = 2;
const WANT = 3;
const HEADER_BYTES = 16;

/** Atomics.waitAsync (ES2024; in Node since 16), typed here because the project's lib is ES2022. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, ms?: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export class ByteRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  /** head, tail, closed, want (Int32 each). */
  readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  /** Attaches to a ring made by create() (possibly in another thread). */
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, HEADER_BYTES);
    this.capacity = this.data.length;
    this.mask = this.capacity - 1;
  }

  /** A new ring of `capacity` bytes (a power of two). */
  static create(capacity = 65536): ByteRing {
    if (capacity < 16 || capacity > 1 << 30 || (capacity & (capacity - 1)) !== 0) throw new RangeError('ByteRing capacity must be a power of two');
    return new ByteRing(new SharedArrayBuffer(HEADER_BYTES + capacity));
  }

  /** Bytes waiting to be read. */
  get available(): number {
    return (Atomics.load(this.ctl, TAIL) - Atomics.load(this.ctl, HEAD)) | 0;
  }

  /** Room for more bytes. */
  get space(): number {
    return this.capacity - this.available;
  }

  /** The producer closed the ring: once it is empty, reads see end of input. */
  get closed(): boolean {
    return Atomics.load(this.ctl, CLOSED) !== 0;
  }

  /** The consumer found the ring empty at least once (it wants input). */
  get wanted(): boolean {
    return Atomics.load(this.ctl, WANT) !== 0;
  }

  /** Producer: copies as much of src[off, off+len) as fits; returns the count. */
  write(src: Uint8Array, off: number, len: number): number {
    const tail = Atomics.load(this.ctl, TAIL);
    const n = Math.min(len, this.capacity - ((tail - Atomics.load(this.ctl, HEAD)) | 0));
    const at = tail & this.mask;
    const first = Math.min(n, this.capacity - at);
    this.data.set(src.subarray(off, off + first), at);
    if (first < n) this.data.set(src.subarray(off + first, off + n), 0);
    Atomics.store(this.ctl, TAIL, (tail + n) | 0);
    Atomics.notify(this.ctl, TAIL);
    return n;
  }

  /**
   * Producer: one record (a frame) with a 4-byte length before it, all or nothing. Returns
   * false when it does not fit now (a full queue drops, as a NIC's does).
   */
  writeRecord(rec: Uint8Array): boolean {
    if (this.space < 4 + rec.length) return false;
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, rec.length, true);
    // Publish the length and the body together: write both before moving TAIL once.
    const tail = Atomics.load(this.ctl, TAIL);
    this.copyIn(tail, len);
    this.copyIn((tail + 4) | 0, rec);
    Atomics.store(this.ctl, TAIL, (tail + 4 + rec.length) | 0);
    Atomics.notify(this.ctl, TAIL);
    return true;
  }

  /**
   * Consumer: the next record, or null when none is complete. With `into`, a record that fits
   * is copied there and returned as a view of it (valid until `into` is reused); otherwise, and
   * without it, the record is a fresh array.
   */
  readRecord(into?: Uint8Array): Uint8Array | null {
    const head = Atomics.load(this.ctl, HEAD);
    const avail = (Atomics.load(this.ctl, TAIL) - head) | 0;
    if (avail < 4) return null;
    const len = new Uint8Array(4);
    this.copyOut(head, len);
    const n = new DataView(len.buffer).getUint32(0, true);
    if (n > this.capacity - 4 || avail < 4 + n) return null;
    const rec = into !== undefined && n <= into.length ? into.subarray(0, n) : new Uint8Array(n);
    this.copyOut((head + 4) | 0, rec);
    Atomics.store(this.ctl, HEAD, (head + 4 + n) | 0);
    Atomics.notify(this.ctl, HEAD);
    return rec;
  }

  private copyIn(at: number, src: Uint8Array): void {
    const i = at & this.mask;
    const first = Math.min(src.length, this.capacity - i);
    this.data.set(src.subarray(0, first), i);
    if (first < src.length) this.data.set(src.subarray(first), 0);
  }

  private copyOut(at: number, dst: Uint8Array): void {
    const i = at & this.mask;
    const first = Math.min(dst.length, this.capacity - i);
    dst.set(this.data.subarray(i, i + first));
    if (first < dst.length) dst.set(this.data.subarray(0, dst.length - first), first);
  }

  /** Consumer on an event loop: resolves once something was written (or `ms` passed). */
  async waitForData(ms = 1000): Promise<void> {
    const tail = Atomics.load(this.ctl, TAIL);
    if (this.available > 0) return;
    const r = waitAsync(this.ctl, TAIL, tail, ms);
    if (r.async) await r.value;
  }

  /** Producer: no more input. */
  close(): void {
    Atomics.store(this.ctl, CLOSED, 1);
  }

  /** Consumer: copies up to `len` bytes into dst[off…]; returns the count (0 when empty). */
  read(dst: Uint8Array, off: number, len: number): number {
    const head = Atomics.load(this.ctl, HEAD);
    const n = Math.min(len, (Atomics.load(this.ctl, TAIL) - head) | 0);
    if (n === 0) {
      if (Atomics.load(this.ctl, WANT) === 0) {
        Atomics.store(this.ctl, WANT, 1);
        Atomics.notify(this.ctl, WANT);
      }
      return 0;
    }
    const at = head & this.mask;
    const first = Math.min(n, this.capacity - at);
    dst.set(this.data.subarray(at, at + first), off);
    if (first < n) dst.set(this.data.subarray(0, n - first), off + first);
    Atomics.store(this.ctl, HEAD, (head + n) | 0);
    Atomics.notify(this.ctl, HEAD);
    return n;
  }

  /** Producer: resolves once the consumer has made room (or `ms` passed). */
  async waitForSpace(ms = 1000): Promise<void> {
    const head = Atomics.load(this.ctl, HEAD);
    if (this.space > 0) return;
    const r = waitAsync(this.ctl, HEAD, head, ms);
    if (r.async) await r.value;
  }

  /** Producer: resolves once the consumer first wanted input. */
  async waitForWant(): Promise<void> {
    const r = waitAsync(this.ctl, WANT, 0);
    if (r.async) await r.value;
  }
}
