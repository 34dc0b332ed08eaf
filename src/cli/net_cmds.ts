// The network tools on tkl's own stack — ping, nc, httpd — which parse their own options
// (the shared --net options live in cli/net_options.ts); registered here as pass-through
// commands so `tkl COMMAND --help` reaches their own help.

import type { Command } from 'commander';
import { ping } from './ping.js';
import { nc } from './nc.js';
import { httpd } from './httpd.js';

const TOOLS: [string, string, (argv: string[]) => Promise<number>][] = [
  ['ping', "ICMP echo through tkl's TCP/IP stack (see 'tkl ping --help')", ping],
  ['nc', "netcat on tkl's stack: stdin to a socket, the socket to stdout (see 'tkl nc --help')", nc],
  ['httpd', "a static web server whose files and sockets are tkl's (see 'tkl httpd --help')", httpd],
];

export function registerNet(p: Command): void {
  for (const [name, summary, run] of TOOLS) {
    p.command(name)
      .description(summary)
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .argument('[args...]')
      .action(async (args: string[]) => {
        process.exitCode = await run(args);
      });
  }
}
