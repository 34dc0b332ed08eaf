// Helpers for interop suites against the Linux network stack: commands run asynchronously
// (tkl's stack runs in this process's event loop and must keep answering meanwhile), and
// network namespaces the suite makes and always removes.

import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop; kills it after `timeoutMs`. */
export function run(cmd: string, args: string[], timeoutMs = 30_000, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.on('error', (e) => {
      clearTimeout(t);
      resolve({ code: -1, stdout, stderr: String(e) });
    });
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

/** Starts a long-running command; `ready` resolves at the first stdout line. */
export function start(cmd: string, args: string[], timeoutMs = 120_000): { ready: Promise<string>; done: Promise<RunResult>; kill(): void } {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let readyFn: (l: string) => void = () => {};
  const ready = new Promise<string>((r) => (readyFn = r));
  p.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const nl = stdout.indexOf('\n');
    if (nl >= 0) readyFn(stdout.slice(0, nl));
  });
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const done = new Promise<RunResult>((resolve) => {
    p.on('close', (code) => {
      clearTimeout(t);
      readyFn('');
      resolve({ code, stdout, stderr });
    });
  });
  return { ready, done, kill: () => p.kill('SIGKILL') };
}

/** What is missing for namespace-based interop, or null when everything is there. */
export function missingForNetns(tools: string[] = []): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  for (const t of ['ip', ...tools]) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `the '${t}' command is not installed`;
  }
  return null;
}

export function sh(cmd: string): RunResult {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `ip netns exec NS …` as an argv. */
export function inNs(ns: string, ...argv: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, ...argv]];
}

/**
 * A Python helper for the Linux side: TCP sink-then-source (tcp-server: reads to end of stream,
 * then sends), source-then-sink (tcp-source: sends at once, then reads), a client that sends
 * then reads (tcp-client), and UDP echo. TCP modes print "received sha256(received) sha256(sent)".
 */
export const PY_PEER = String.raw`
import socket, sys, hashlib, random
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode in ('tcp-server', 'tcp-client', 'tcp-source'):
    nsend = int(sys.argv[4])
    if mode != 'tcp-client':
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, port)); ls.listen(1)
        print('ready', flush=True)
        c, _ = ls.accept()
    else:
        print('ready', flush=True)
        c = socket.create_connection((host, port), timeout=60)
    c.settimeout(120)
    h = hashlib.sha256(); n = 0
    if mode == 'tcp-server':
        while True:
            b = c.recv(1 << 20)
            if not b: break
            h.update(b); n += len(b)
    block = random.Random(7).randbytes(1 << 20)
    hs = hashlib.sha256(); sent = 0
    while sent < nsend:
        k = min(len(block), nsend - sent)
        c.sendall(block[:k]); hs.update(block[:k]); sent += k
    c.shutdown(socket.SHUT_WR)
    if mode != 'tcp-server':
        while True:
            b = c.recv(1 << 20)
            if not b: break
            h.update(b); n += len(b)
    c.close()
    print(n, h.hexdigest(), hs.hexdigest(), flush=True)
elif mode == 'udp-echo':
    count = int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port)); s.settimeout(30)
    print('ready', flush=True)
    for _ in range(count):
        d, a = s.recvfrom(70000)
        s.sendto(d, a)
    print('done', flush=True)
`;
