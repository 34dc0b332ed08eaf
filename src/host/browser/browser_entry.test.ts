// The package's "browser" export condition: `import 'tkl'` in a bundler for the web resolves to
// dist/src/browser.js, whose module graph must not reach any Node built-in, and whose boot()
// runs on a BrowserHost.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

test('the browser entry resolves under the "browser" condition and imports no node: module', () => {
  const r = spawnSync(process.execPath, ['--conditions=browser', '--input-type=module', '-e',
    "const m = await import('tkl'); const k = m.boot(); k.fs.writeFile('/tmp/x', 'hi'); console.log(k.kernel.host.constructor.name, k.fs.readFile('/tmp/x', 'utf8'));"], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'BrowserHost hi');
  const seen = new Set<string>();
  const builtins: string[] = [];
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:') || ['fs', 'path', 'os', 'worker_threads', 'child_process', 'crypto', 'net', 'dgram'].includes(spec)) builtins.push(`${file} imports ${spec}`);
      else if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
    }
  };
  walk(resolve(root, 'dist/src/browser.js'));
  assert.ok(seen.size > 50, `only ${seen.size} modules found: the walk is broken`);
  assert.deepEqual(builtins, []);
});
