// The `tkl` command: one file per subcommand in cli/, each registering itself on a commander
// program here. Exit codes follow coreutils: 0 success, 1 failure, 2 bad usage.

import { Command, CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_USAGE, CliError, UsageError } from './output.js';
import { COMMANDS } from './commands.js';

export function program(): Command {
  const p = new Command('tkl')
    .description('tkl, the TypeScript Kernel Library: disk images, unikernels and simulations without root')
    .usage('COMMAND [OPTIONS] [ARGS...]')
    .showHelpAfterError("(run 'tkl COMMAND --help' for that command's options and examples)")
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  for (const register of COMMANDS) register(p);
  p.addHelpText(
    'after',
    `
Addresses: IMAGE[:PART]:/path names a path inside a disk image; PART is a partition number,
a GPT partition name or a filesystem label (optional for a bare filesystem image or a disk
with one partition). Anything without ":/" is a path on the host.

Examples:
  tkl mkimage disk.img --size 256M --table gpt --part vfat:64M:boot --part ext4:rest:root
  tkl cp -r ./site disk.img:root:/srv/www
  tkl ls -l disk.img:root:/srv/www`,
  );
  return p;
}

/** `tkl cat … | head`: a closed pipe ends output quietly, as coreutils does. */
function onStdoutError(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
}

export async function main(argv: string[]): Promise<number> {
  // Once per process, also when main() runs many times in one (benchmarks, tests).
  if (!process.stdout.listeners('error').includes(onStdoutError)) process.stdout.on('error', onStdoutError);
  const p = program();
  try {
    await p.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`tkl: ${e.message}\n(run 'tkl --help' or 'tkl COMMAND --help')\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CliError) {
      process.stderr.write(e.message + '\n');
      return e.code;
    }
    process.stderr.write(`tkl: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILURE;
  }
}

