import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap, type HeapEntry } from './heap.js';
import { SeededRandom } from './random.js';

interface Item extends HeapEntry {
  name: string;
}

test('pops in key order, FIFO among equal keys', () => {
  const h = new MinHeap<Item>();
  let seq = 0;
  const add = (key: number, name: string): Item => {
    const it = { key, seq: seq++, dead: false, name };
    h.push(it);
    return it;
  };
  add(5, 'a');
  add(1, 'b');
  add(5, 'c');
  add(3, 'd');
  add(1, 'e');
  const out: string[] = [];
  for (let it = h.pop(); it; it = h.pop()) out.push(it.name);
  assert.deepEqual(out, ['b', 'e', 'd', 'a', 'c']);
});

test('removed entries are skipped and not counted', () => {
  const h = new MinHeap<Item>();
  const items = [4, 2, 7, 1].map((key, seq) => ({ key, seq, dead: false, name: String(key) }));
  for (const it of items) h.push(it);
  h.remove(items[3]!);
  h.remove(items[1]!);
  assert.equal(h.size, 2);
  assert.equal(h.pop()!.name, '4');
  assert.equal(h.pop()!.name, '7');
  assert.equal(h.pop(), undefined);
});

test('random pushes come out sorted', () => {
  const rng = new SeededRandom(42);
  const h = new MinHeap<Item>();
  const keys: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const key = rng.int(0, 100);
    keys.push(key);
    h.push({ key, seq: i, dead: false, name: '' });
  }
  const out: number[] = [];
  for (let it = h.pop(); it; it = h.pop()) out.push(it.key);
  assert.deepEqual(out, keys.sort((a, b) => a - b));
});

test('SeededRandom: one seed, one sequence; another seed, another', () => {
  const a = new SeededRandom(7);
  const b = new SeededRandom(7);
  const c = new SeededRandom(8);
  const sa = Array.from({ length: 20 }, () => a.nextU32());
  const sb = Array.from({ length: 20 }, () => b.nextU32());
  const sc = Array.from({ length: 20 }, () => c.nextU32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});
