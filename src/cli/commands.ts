// Every `tkl` subcommand, by the module that registers it. The network tools parse their own
// options and are registered as pass-through commands: `tkl COMMAND --help` reaches their help.

import type { Command } from 'commander';
import { registerRead } from './read_cmds.js';
import { registerWrite } from './write_cmds.js';
import { registerInfo } from './info_cmds.js';
import { registerDemo } from './demo.js';
import { registerAttrib } from './attrib_cmd.js';
import { registerMkfs } from './mkfs_cmds.js';
import { registerWasi } from './wasi_run.js';
import { ping } from './ping.js';
import { nc } from './nc.js';
import { httpd } from './httpd.js';

const SELF_PARSING: [string, string, (argv: string[]) => Promise<number>][] = [
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

export const COMMANDS: ((p: Command) => void)[] = [registerRead, registerWrite, registerInfo, registerMkfs, registerWasi, registerSelfParsing, registerDemo, registerAttrib];
