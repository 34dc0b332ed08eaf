// Signals during a copy into an image: SIGINT (Ctrl-C), SIGTERM and SIGHUP all stop `tkl cp`
// at the next safe point, unmount cleanly (fsck.fat -n and e2fsck -fn find nothing wrong) and
// exit with the status a shell shows for that signal (130, 143, 129). To land the signal in
// the middle of the copy on a machine of any speed, the test freezes tkl with SIGSTOP as soon
// as data reaches the image, queues the signal, and lets it go on with SIGCONT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh, have, scratch } from './harness.js';

const BIN = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));
const tools = ['mkfs.fat', 'fsck.fat', 'mkfs.ext4', 'e2fsck', 'debugfs'];
const missing = tools.filter((t) => !have(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (Debian: dosfstools, e2fsprogs)` : false;

const SOURCE_BYTES = 512 << 20;
const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Runs `tkl cp -q SRC IMG:/big`, delivering `sig` once the image has started to fill. */
function copyAndSignal(src: string, img: string, sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string; delivered: boolean }> {
  const before = statSync(img).blocks;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'cp', '-q', src, `${img}:/big`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let delivered = false;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const poll = setInterval(() => {
      if (delivered || child.exitCode !== null) return;
      // 4 MiB more of the image file is allocated: file data is being written.
      if ((statSync(img).blocks - before) * 512 < 4 << 20) return;
      child.kill('SIGSTOP');
      if (child.exitCode === null) {
        delivered = true;
        child.kill(sig);
      }
      child.kill('SIGCONT');
    }, 2);
    const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(limit);
      resolve({ code, signal, err, delivered });
    });
  });
}

for (const [fs, sig] of [['vfat', 'SIGTERM'], ['ext4', 'SIGTERM'], ['vfat', 'SIGHUP'], ['ext4', 'SIGHUP'], ['ext4', 'SIGINT']] as const) {
  test(`${sig} in the middle of tkl cp into ${fs}: a clean unmount, exit ${EXIT[sig]}`, { skip, timeout: 120_000 }, async () => {
    const s = scratch();
    try {
      const src = join(s.dir, 'big');
      const img = join(s.dir, 'img');
      // A sparse source (reading it costs nothing) and a sparse image: only what is copied lands on disk.
      assert.equal(sh(`truncate -s ${SOURCE_BYTES} '${src}' && truncate -s 768M '${img}'`).code, 0);
      assert.equal(sh(fs === 'vfat' ? `mkfs.fat -F 32 '${img}' >/dev/null` : `mkfs.ext4 -q -F '${img}'`).code, 0);
      const r = await copyAndSignal(src, img, sig);
      assert.ok(r.delivered, `the copy ended before the signal could be sent: ${r.err}`);
      assert.equal(r.signal, null, 'tkl exits by itself, not killed by the signal');
      assert.equal(r.code, EXIT[sig], r.err);
      const what = sig === 'SIGINT' ? 'interrupted' : sig === 'SIGTERM' ? 'terminated (SIGTERM)' : 'hung up (SIGHUP)';
      assert.equal(r.err, `tkl: ${what}; unmounting cleanly\n`);
      if (fs === 'vfat') {
        const f = sh(`fsck.fat -n '${img}'`);
        assert.equal(f.code, 0, f.out + f.err);
        assert.doesNotMatch(f.out, /Dirty bit is set/);
      } else {
        const e = sh(`e2fsck -fn '${img}'`);
        assert.equal(e.code, 0, e.out + e.err);
        // Stopped part way: the copy in the image is shorter than the source.
        const size = Number(/Size: (\d+)/.exec(sh(`debugfs -R 'stat /big' '${img}' 2>/dev/null`).out)?.[1]);
        assert.ok(size < SOURCE_BYTES, `partial copy: ${size} bytes`);
      }
    } finally {
      s.done();
    }
  });
}
