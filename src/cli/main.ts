// The `tkl` command: one file per subcommand under cli/; this file dispatches.

import { demo } from './demo.js';
import { runCommand } from './run.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number> | number; summary: string }> = {
  demo: { run: demo, summary: 'boot a kernel, build a small tree in it and show it' },
  run: { run: runCommand, summary: 'run a WASI program (app.wasm) as a unikernel on its own kernel' },
};

function usage(): string {
  const lines = ['usage: tkl COMMAND [ARGS...]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', "Run 'tkl COMMAND --help' for a command's options.");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') {
    console.log(usage());
    return cmd === undefined ? 2 : 0;
  }
  const c = COMMANDS[cmd];
  if (c === undefined) {
    console.error(`tkl: unknown command '${cmd}'\n${usage()}`);
    return 2;
  }
  return c.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
