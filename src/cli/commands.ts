// Every `tkl` subcommand, by the module that registers it.

import type { Command } from 'commander';
import { registerRead } from './read_cmds.js';
import { registerWrite } from './write_cmds.js';
import { registerInfo } from './info_cmds.js';
import { registerDemo } from './demo.js';
import { registerMkfs } from './mkfs_cmds.js';
import { registerNet } from './net_cmds.js';
import { registerWasi } from './wasi_run.js';

export const COMMANDS: ((p: Command) => void)[] = [registerRead, registerWrite, registerInfo, registerMkfs, registerNet, registerWasi, registerDemo];
