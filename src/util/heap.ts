// A binary min-heap ordered by (key, insertion sequence): equal keys pop in FIFO order,
// which keeps timer firing order deterministic. Removal is lazy (mark and skip).

export interface HeapEntry {
  key: number;
  seq: number;
  /** Set by the owner to drop the entry; popped entries with `dead` set are skipped. */
  dead: boolean;
}

export class MinHeap<T extends HeapEntry> {
  private readonly items: T[] = [];
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(entry: T): void {
    const a = this.items;
    a.push(entry);
    this.live++;
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  /** Marks an entry dead; it is discarded when it reaches the top. */
  remove(entry: T): void {
    if (!entry.dead) {
      entry.dead = true;
      this.live--;
    }
  }

  /** The earliest live entry, or undefined. */
  peek(): T | undefined {
    this.dropDead();
    return this.items[0];
  }

  pop(): T | undefined {
    this.dropDead();
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeTop();
    this.live--;
    top.dead = true;
    return top;
  }

  private dropDead(): void {
    while (this.items.length > 0 && this.items[0]!.dead) this.removeTop();
  }

  private removeTop(): void {
    const a = this.items;
    const last = a.pop()!;
    if (a.length === 0) return;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && less(a[l]!, a[m]!)) m = l;
      if (r < a.length && less(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}
