// Every `tkl` subcommand, by the module that registers it. Tools that parse their own
// options (the network tools and `tkl run`, whose options pass on to the program) are
// registered as pass-through commands: `tkl COMMAND --help` reaches their own help.

import type { Command } from 'commander';
import { registerRead } from './read_cmds.js';
import { registerWrite } from './write_cmds.js';
import { registerInfo } from './info_cmds.js';
import { registerDemo } from './demo.js';
import { registerMkfs } from './mkfs_cmds.js';
import { ping } from './ping.js';
import { nc } from './nc.js';
import { httpd } from './httpd.js';
import { runCommand } from './run.js';

const SELF_PARSING: [string, string, (argv: string[]) => Promise<number>][] = [
  ['run', 'run a WASI program (app.wasm) as a unikernel on its own kernel', runCommand],
  ['ping', "ICMP echo through tkl's TCP/IP stack", ping],
  ['nc', "netcat on tkl's stack: stdin to a socket, the socket to stdout", nc],
  ['httpd', "a static web server whose files and sockets are tkl's", httpd],
];

function registerSelfParsing(p: Command): void {
  for (const [name, summary, run] of SELF_PARSING) {
    p.command(name)
      .description(`${summary} (see 'tkl ${name} --help')`)
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .argument('[args...]')
      .action(async (args: string[]) => {
        process.exitCode = await run(args);
      });
  }
}

export const COMMANDS: ((p: Command) => void)[] = [registerRead, registerWrite, registerInfo, registerMkfs, registerSelfParsing, registerDemo];
