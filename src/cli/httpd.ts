// `tkl httpd --root DIR --port 80`: a static file server whose files come from the kernel's
// VFS and whose sockets are tkl's. The server runs as its own process chrooted to the root
// (any kernel path: a tmpfs directory, a mounted disk image), so requests cannot leave it.

import { O_RDONLY } from '../abi/linux/fcntl.js';
import { S_IFDIR, S_IFMT, S_IFREG } from '../abi/linux/stat.js';
import { SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../abi/linux/socket.js';
import type { Process, Tkl } from '../api/boot.js';
import { AF_INET } from '../net/socket/sockaddr.js';
import { netHelp, netUsage, parseNetArgs, setupNet, type NetSetup } from './netopts.js';
import { existsSync } from 'node:fs';
import { parseAddress } from './address.js';
import { Session } from './session.js';

export interface HttpdOptions {
  /** A directory of the kernel's VFS. */
  root: string;
  port: number;
  /** Listen address; default 0.0.0.0. */
  addr?: string;
  /** Log requests (one line each) here. */
  log?: (line: string) => void;
}

export interface Httpd {
  readonly port: number;
  /** Stops accepting; open connections finish. */
  close(): void;
  /** Settles when the accept loop has ended. */
  readonly done: Promise<void>;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8', css: 'text/css', js: 'text/javascript',
  json: 'application/json', txt: 'text/plain; charset=utf-8', png: 'image/png', jpg: 'image/jpeg', svg: 'image/svg+xml',
};

const enc = new TextEncoder();
const CHUNK = 256 * 1024;

/** Starts serving `opts.root` on `opts.port` from a new chrooted process of `k`. */
export function serveHttp(k: Tkl, opts: HttpdOptions): Httpd {
  const p = k.process();
  p.sys.chroot(opts.root);
  p.sys.chdir('/');
  const l = p.sys.socket(AF_INET, SOCK_STREAM, 0);
  p.sys.setsockopt(l, SOL_SOCKET, SO_REUSEADDR, 1);
  p.sys.bind(l, { family: AF_INET, addr: opts.addr ?? '0.0.0.0', port: opts.port });
  p.sys.listen(l, 128);
  const port = (p.sys.getsockname(l) as { port: number }).port;
  let closed = false;
  const done = (async () => {
    for (;;) {
      let c: number;
      try {
        c = await p.sys.accept4(l, null, 0);
      } catch (e) {
        if (closed) return;
        throw e;
      }
      void handle(p, c, opts.log).catch(() => undefined);
    }
  })();
  return {
    port,
    done,
    close() {
      closed = true;
      p.sys.close(l);
    },
  };
}

async function handle(p: Process, c: number, log?: (line: string) => void): Promise<void> {
  try {
    for (;;) {
      const req = await readRequest(p, c);
      if (req === null) return;
      const keep = await respond(p, c, req, log);
      if (!keep) return;
    }
  } finally {
    p.sys.close(c);
  }
}

interface Request {
  method: string;
  path: string;
  version: string;
  headers: Map<string, string>;
}

/** Reads one request head (up to 16 KiB). Null at end of stream or on garbage. */
async function readRequest(p: Process, c: number): Promise<Request | null> {
  const buf = new Uint8Array(16384);
  let n = 0;
  for (;;) {
    const end = findHeadEnd(buf, n);
    if (end >= 0) {
      const text = new TextDecoder('latin1').decode(buf.subarray(0, end));
      const [line, ...rest] = text.split('\r\n');
      const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(line ?? '');
      if (m === null) return null;
      const headers = new Map<string, string>();
      for (const h of rest) {
        const i = h.indexOf(':');
        if (i > 0) headers.set(h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim());
      }
      return { method: m[1]!, path: m[2]!, version: m[3]!, headers };
    }
    if (n === buf.length) return null;
    const k = await p.sys.read(c, buf.subarray(n));
    if (k === 0) return null;
    n += k;
  }
}

function findHeadEnd(b: Uint8Array, n: number): number {
  for (let i = 3; i < n; i++) if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  return -1;
}

async function respond(p: Process, c: number, req: Request, log?: (line: string) => void): Promise<boolean> {
  const keep = req.version === 'HTTP/1.1' ? req.headers.get('connection')?.toLowerCase() !== 'close' : req.headers.get('connection')?.toLowerCase() === 'keep-alive';
  const send = (status: string, type: string, body: string): Promise<number> => {
    const b = enc.encode(body);
    return p.sys.write(c, enc.encode(`HTTP/1.1 ${status}\r\nServer: tkl\r\nContent-Type: ${type}\r\nContent-Length: ${b.length}\r\nConnection: ${keep ? 'keep-alive' : 'close'}\r\n\r\n${req.method === 'HEAD' ? '' : body}`));
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    await send('405 Method Not Allowed', 'text/plain', 'method not allowed\n');
    log?.(`${req.method} ${req.path} 405`);
    return keep;
  }
  let path: string;
  try {
    path = decodeURIComponent(req.path.split('?')[0]!);
  } catch {
    await send('400 Bad Request', 'text/plain', 'bad request\n');
    return false;
  }
  let st = statOrNull(p, path);
  if (st !== null && (st.mode & S_IFMT) === S_IFDIR) {
    path = path.replace(/\/?$/, '/index.html');
    st = statOrNull(p, path);
  }
  if (st === null || (st.mode & S_IFMT) !== S_IFREG) {
    await send('404 Not Found', 'text/plain', 'not found\n');
    log?.(`${req.method} ${req.path} 404`);
    return keep;
  }
  const fd = p.sys.open(path, O_RDONLY);
  try {
    const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
    await p.sys.write(c, enc.encode(`HTTP/1.1 200 OK\r\nServer: tkl\r\nContent-Type: ${TYPES[ext] ?? 'application/octet-stream'}\r\nContent-Length: ${st.size}\r\nConnection: ${keep ? 'keep-alive' : 'close'}\r\n\r\n`));
    if (req.method === 'GET') {
      const chunk = new Uint8Array(Math.min(CHUNK, Math.max(st.size, 1)));
      for (;;) {
        const n = await p.sys.read(fd, chunk);
        if (n === 0) break;
        await p.sys.write(c, chunk.subarray(0, n));
      }
    }
  } finally {
    p.sys.close(fd);
  }
  log?.(`${req.method} ${req.path} 200 ${st.size}`);
  return keep;
}

function statOrNull(p: Process, path: string): { mode: number; size: number } | null {
  try {
    return p.sys.stat(path);
  } catch {
    return null;
  }
}

export async function httpd(args: string[]): Promise<number> {
  let root = '/srv/www';
  let port = 80;
  let net: NetSetup;
  try {
    const rest = parseNetArgs(args);
    net = rest.net;
    for (let i = 0; i < rest.args.length; i++) {
      const a = rest.args[i]!;
      if (a === '--help' || a === '-h') {
        console.log(`usage: tkl httpd [--root IMAGE[:PART]:/DIR | --root DIR] [--port N] ${netUsage}\n\nServes a directory over HTTP on tkl's TCP/IP stack: from a disk image (mounted read-only\nin the kernel), or DIR of the kernel's own filesystem. Without --root, a small demo site\nis made in /srv/www.\n\n${netHelp}\n\nexamples:\n  tkl httpd --net tap:tkl0 --ip 10.0.0.2/24 --port 80\n  tkl httpd --root site.img:/www --net passt --dhcp --port 8080`);
        return 0;
      }
      if (a === '--root') root = rest.args[++i] ?? '';
      else if (a === '--port') port = Number(rest.args[++i]);
      else throw new Error(`unknown option '${a}'`);
    }
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error('bad --port');
  } catch (e) {
    console.error(`tkl httpd: ${(e as Error).message}`);
    return 2;
  }
  // An image address mounts the image (read-only) in the kernel and serves from inside it.
  const addr = parseAddress(root, existsSync);
  let session: Session | null = null;
  if (addr.kind === 'image') {
    try {
      session = new Session();
      root = session.path(addr, false);
    } catch (e) {
      console.error((e as Error).message);
      session?.close();
      return 1;
    }
  }
  let ready;
  try {
    ready = await setupNet(net, session?.k);
  } catch (e) {
    console.error(`tkl httpd: ${(e as Error).message}`);
    session?.close();
    return 1;
  }
  const { k } = ready;
  const close = (): void => {
    ready.close();
    session?.close();
  };
  if (root === '/srv/www' && !k.fs.exists('/srv/www')) {
    k.fs.mkdir('/srv/www', { recursive: true });
    k.fs.writeFile('/srv/www/index.html', '<h1>hello from tkl</h1>\n');
  }
  const srv = serveHttp(k, { root, port, log: (l) => console.error(l) });
  console.error(`tkl httpd: serving ${root} on port ${srv.port}`);
  process.once('SIGINT', () => {
    srv.close();
    close();
  });
  await srv.done;
  return 0;
}
