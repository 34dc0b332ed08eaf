#!/usr/bin/env node
// Builds tkl's optional TAP addon (native/tap) into native/tap/build/Release/tkl_tap.node.
// With node-gyp on PATH it uses node-gyp; otherwise it compiles directly with cc against the
// headers of the running Node (include/node beside the binary). Exits 0 with a message when
// neither a compiler nor headers exist: everything except --net tap works without the addon.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'native', 'tap');
const out = join(dir, 'build', 'Release', 'tkl_tap.node');
if (process.platform !== 'linux') {
  console.log('tkl tap addon: not Linux, skipped');
  process.exit(0);
}
const gyp = spawnSync('node-gyp', ['--version'], { encoding: 'utf8' });
if (gyp.status === 0) {
  const r = spawnSync('node-gyp', ['rebuild'], { cwd: dir, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const include = join(dirname(process.execPath), '..', 'include', 'node');
if (!existsSync(join(include, 'node_api.h'))) {
  console.log(`tkl tap addon: no node-gyp and no Node headers at ${include}; skipped (see README: TAP)`);
  process.exit(0);
}
const cc = process.env.CC ?? 'cc';
mkdirSync(dirname(out), { recursive: true });
const r = spawnSync(cc, ['-O2', '-fPIC', '-shared', '-Wall', `-I${include}`, '-DNODE_GYP_MODULE_NAME=tkl_tap', '-o', out, join(dir, 'tap.c')], { stdio: 'inherit' });
if (r.error) {
  console.log(`tkl tap addon: no C compiler (${cc}); skipped`);
  process.exit(0);
}
if (r.status === 0) console.log(`tkl tap addon: built ${out}`);
process.exit(r.status ?? 1);
