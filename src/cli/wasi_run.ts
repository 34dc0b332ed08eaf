// `tkl run [options] app.wasm [args…]`: runs a WASI preview1 program as a unikernel — the
// program and its own tkl kernel in a worker thread — with the filesystems and environment
// the options give it. The exit code is the program's; Ctrl-C ends it (130).

import type { Command } from 'commander';
import { ABORT_EXIT_CODE, DirSpecError, parseDir, run, type RunOptions } from '../api/wasi/run.js';
import { NetDeviceError, checkNetSpec } from './netopts.js';
import { parseCidr, parseIpv4Addr } from '../net/wire/ipv4.js';
import type { DirMount } from '../api/wasi/program.js';

const USAGE = `usage: tkl run [options] app.wasm [args...]

Runs a WASI preview1 program on its own tkl kernel (in a worker thread).

options:
  --dir HOST[:GUEST]   expose host directory HOST to the program as GUEST (default: HOST);
                       GUEST "/" makes it the program's root. Append :ro for read-only.
                       The program can never reach outside HOST.
  --env K=V            set an environment variable (the program sees only those given)
  --tmpfs PATH         a fresh tmpfs at PATH (e.g. /tmp), preopened
  --dev                preopen a /dev with null, zero, full, random and urandom
  --sim                run on the simulated host: virtual time, seeded randomness
  --seed N             seed of all randomness (random_get, ports, TCP sequence numbers): with
                       --sim the simulated host's (default 1); without, a seeded generator
                       replaces the real one, so the random bytes repeat (never use for secrets)
  --hostname NAME      the kernel's hostname
  --trace              log every WASI call to stderr, like strace
  --disk IMAGE[:PART]  a disk image's filesystem (ext2/3/4 or FAT) as the program's root "/";
                       PART is a partition number, GPT name or label
  --ro                 mount the --disk root read-only
  --mount IMAGE[:PART]:/PATH   another disk image's filesystem at /PATH
  --net none|tap:NAME|udp:LOCAL,REMOTE|passt[:SOCKET]   the program's network card (the
                       device stays with this thread; frames reach the kernel through rings)
  --ip ADDR/PREFIX     its address     --gw ADDR   its default gateway     --mtu N
  --dhcp               take address and gateway from DHCP before the program starts
  --listen PORT        a listening TCP socket on PORT, preopened after the directories (with
                       none, the first is descriptor 3); programs accept() on it
  -h, --help           this text

Exit status: the program's; 134 after a trap, 130 on Ctrl-C; 141 when its output pipe closed
(as SIGPIPE shows in a shell: \`tkl run cat.wasm | head\`); 2 for bad usage, 1 when tkl itself
could not start the program.

examples:
  tkl run hello.wasm
  tkl run --dir ./data:/data --env LANG=C.UTF-8 app.wasm input.txt
  tkl run --disk rootfs.img:root --tmpfs /tmp sqlite3.wasm /var/db/app.db
  tkl run --sim --seed 7 simulation.wasm        (virtual clock; same output every run)
  tkl run --net tap:tkl0 --ip 10.0.0.2/24 --gw 10.0.0.1 --listen 80 httpd.wasm`;

export async function runCommand(argv: string[]): Promise<number> {
  const dirs: DirMount[] = [];
  const env: string[] = [];
  const tmpfs: string[] = [];
  let sim = false;
  let seed: number | undefined;
  let hostname: string | undefined;
  let trace = false;
  let devices = false;
  let disk: string | undefined;
  let readOnly = false;
  const mounts: string[] = [];
  let netDevice = 'none';
  let ip: string | undefined;
  let gw: string | undefined;
  let mtu: number | undefined;
  let dhcp = false;
  const listen: number[] = [];
  let i = 0;
  const value = (opt: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${opt} needs a value`);
    return v;
  };
  try {
    for (; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith('-') || a === '-') break;
      if (a === '--') {
        i++;
        break;
      }
      const eq = a.indexOf('=');
      const opt = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
      const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
      const val = (): string => inline ?? value(opt);
      switch (opt) {
        case '-h':
        case '--help':
          console.log(USAGE);
          return 0;
        case '--dir':
          try {
            dirs.push(parseDir(val()));
          } catch (e) {
            if (e instanceof DirSpecError) throw new UsageError(e.message);
            throw e;
          }
          break;
        case '--env': {
          const kv = val();
          if (!kv.includes('=')) throw new UsageError(`--env needs K=V, not '${kv}'`);
          env.push(kv);
          break;
        }
        case '--tmpfs':
          tmpfs.push(val());
          break;
        case '--sim':
          sim = true;
          break;
        case '--dev':
          devices = true;
          break;
        case '--disk':
          if (disk !== undefined) throw new UsageError('only one --disk (the root); use --mount for more');
          disk = val();
          break;
        case '--ro':
          readOnly = true;
          break;
        case '--net':
          try {
            netDevice = checkNetSpec(val());
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
          break;
        case '--ip':
          ip = val();
          if (parseCidr(ip) === null || !ip.includes('/')) throw new UsageError(`bad --ip '${ip}' (want ADDR/PREFIX)`);
          break;
        case '--gw':
          gw = val();
          if (parseIpv4Addr(gw) === null) throw new UsageError(`bad --gw '${gw}'`);
          break;
        case '--dhcp':
          dhcp = true;
          break;
        case '--mtu':
          mtu = Number(val());
          if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65521) throw new UsageError('bad --mtu');
          break;
        case '--listen': {
          const port = Number(val());
          if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--listen needs a port number');
          listen.push(port);
          break;
        }
        case '--mount': {
          const m = val();
          if (!m.includes(':/')) throw new UsageError(`--mount needs IMAGE[:PART]:/PATH, not '${m}'`);
          mounts.push(m);
          break;
        }
        case '--seed': {
          const s = Number(val());
          if (!Number.isInteger(s) || s < 0) throw new UsageError('--seed needs a non-negative integer');
          seed = s;
          break;
        }
        case '--hostname':
          hostname = val();
          break;
        case '--trace':
          trace = true;
          break;
        default:
          throw new UsageError(`unknown option '${a}'`);
      }
    }
    const wasm = argv[i];
    if (wasm === undefined) throw new UsageError('no program given');
    if (readOnly && disk === undefined) throw new UsageError('--ro applies to a --disk root');
    if (netDevice === 'none' && (ip !== undefined || gw !== undefined || dhcp)) throw new UsageError('--ip/--gw/--dhcp need a --net device');
    const options: RunOptions = {
      module: wasm,
      args: argv.slice(i + 1),
      argv0: wasm.split('/').pop() ?? wasm,
      env,
      dirs,
      tmpfs,
      sim,
      seed,
      hostname,
      trace,
      devices,
      disk,
      readOnly,
      mounts,
      listen,
      net: netDevice === 'none' ? undefined : { device: netDevice, ip, gw, mtu, dhcp },
      stdin: 'inherit',
    };
    const abort = new AbortController();
    const onSignal = (): void => {
      if (!abort.signal.aborted) return abort.abort(); // the program stops at its next call; disks are synced
      process.stderr.write('tkl run: stopped at once; data not yet synced to disk images is lost\n');
      process.exit(ABORT_EXIT_CODE);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    options.signal = abort.signal;
    try {
      const r = await run(options);
      if (r.error !== undefined && r.exitCode !== ABORT_EXIT_CODE) process.stderr.write(`tkl run: ${r.error}\n`);
      return r.exitCode & 0xff;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tkl run: ${e.message}\n(run 'tkl run --help' for the options and examples)\n`);
      return 2;
    }
    if (e instanceof NetDeviceError) {
      process.stderr.write(`tkl run: ${e.message}\n`);
      return 1;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && (e as NodeJS.ErrnoException).path !== undefined) {
      process.stderr.write(`tkl run: ${(e as Error).message}\n`);
      return 1;
    }
    if (e instanceof WebAssembly.CompileError) {
      process.stderr.write(`tkl run: not a valid WebAssembly module: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

class UsageError extends Error {}

/** Registers `tkl run` (it parses its own options, like the network tools). */
export function registerWasi(p: Command): void {
  p.command('run')
    .description('run a WASI program (app.wasm) as a unikernel on its own kernel (see \'tkl run --help\')')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]')
    .action(async (args: string[]) => {
      process.exitCode = await runCommand(args);
    });
}
