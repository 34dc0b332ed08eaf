// Runs differential-test sequences on the host as whoever starts it (the unprivileged variant
// runs it as uid 1000): reads {dirs, sequences} as JSON on stdin, runs sequence i in dirs[i]
// through node:fs, and prints every outcome as JSON. Imports nothing from tkl.

import { readFileSync } from 'node:fs';
import { HostWorld, type Op, type Outcome } from './host_world.js';

const input = JSON.parse(readFileSync(0, 'utf8')) as { dirs: string[]; sequences: Op[][] };
process.umask(0o022);
const results: Outcome[][] = input.sequences.map((ops, i) => {
  const w = new HostWorld(input.dirs[i]!);
  return ops.map((op) => w.run(op));
});
process.stdout.write(JSON.stringify(results));
