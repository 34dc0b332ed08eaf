// The stub resolver (like glibc's): /etc/hosts first, then the nameservers of
// /etc/resolv.conf (both read from the kernel's own VFS) over UDP port 53, with a timeout
// and attempts per server (resolv.conf's `options timeout:N attempts:N`), following CNAMEs.

import { SOCK_DGRAM, SOL_SOCKET, SO_RCVTIMEO } from '../../abi/linux/socket.js';
import type { Process } from '../../api/boot.js';
import { AF_INET } from '../socket/sockaddr.js';
import { DNS_PORT, emitQuery, parseResponse, TYPE_A, TYPE_CNAME } from '../wire/dns.js';
import { formatIpv4, parseIpv4Addr } from '../wire/ipv4.js';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  timeoutSec: number;
  attempts: number;
}

export function parseResolvConf(text: string): ResolvConf {
  const c: ResolvConf = { nameservers: [], search: [], timeoutSec: 5, attempts: 2 };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...vals] = line.split(/\s+/);
    if (key === 'nameserver' && vals[0] && parseIpv4Addr(vals[0]) !== null && c.nameservers.length < 3) c.nameservers.push(vals[0]);
    else if (key === 'search' || key === 'domain') c.search = vals;
    else if (key === 'options')
      for (const o of vals) {
        const m = /^(timeout|attempts):(\d+)$/.exec(o);
        if (m?.[1] === 'timeout') c.timeoutSec = Math.min(30, Math.max(1, Number(m[2])));
        if (m?.[1] === 'attempts') c.attempts = Math.min(5, Math.max(1, Number(m[2])));
      }
  }
  return c;
}

/** /etc/hosts lookup: the first IPv4 address listed for `name`. */
export function lookupHosts(text: string, name: string): string | null {
  const want = name.toLowerCase();
  for (const raw of text.split('\n')) {
    const [addr, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (addr === undefined || parseIpv4Addr(addr) === null) continue;
    if (names.some((n) => n.toLowerCase() === want)) return addr;
  }
  return null;
}

function readOr(p: Process, path: string): string {
  try {
    return p.fs.readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** Resolves `name` to an IPv4 address. Errors: an Error with code ENOTFOUND or ETIMEOUT (as Node's dns). */
export async function resolve4(p: Process, name: string): Promise<string> {
  if (parseIpv4Addr(name) !== null) return name;
  if (name === 'localhost') return '127.0.0.1';
  const hosts = lookupHosts(readOr(p, '/etc/hosts'), name);
  if (hosts !== null) return hosts;
  const conf = parseResolvConf(readOr(p, '/etc/resolv.conf'));
  if (conf.nameservers.length === 0) throw Object.assign(new Error(`no nameserver for ${name} (/etc/resolv.conf)`), { code: 'ENOTFOUND' });
  const names = name.includes('.') || conf.search.length === 0 ? [name] : conf.search.map((d) => `${name}.${d}`).concat(name);
  let timedOut = false;
  for (const n of names) {
    const r = await query(p, n, conf);
    if (r === 'timeout') timedOut = true;
    else if (r !== null) return r;
  }
  throw Object.assign(new Error(`${timedOut ? 'timed out resolving' : 'not found'}: ${name}`), { code: timedOut ? 'ETIMEOUT' : 'ENOTFOUND' });
}

async function query(p: Process, name: string, conf: ResolvConf): Promise<string | null | 'timeout'> {
  const s = p.sys.socket(AF_INET, SOCK_DGRAM, 0);
  try {
    p.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: conf.timeoutSec, usec: 0 });
    const buf = new Uint8Array(1500);
    const rnd = new Uint8Array(2);
    for (let attempt = 0; attempt < conf.attempts; attempt++) {
      for (const ns of conf.nameservers) {
        p.kernel.host.randomFill(rnd);
        const id = (rnd[0]! << 8) | rnd[1]!;
        await p.sys.sendto(s, emitQuery(id, name), undefined, 0, { family: AF_INET, addr: ns, port: DNS_PORT });
        for (;;) {
          let n: number;
          const from: { addr?: string } = {};
          try {
            n = await p.sys.recvfrom(s, buf, undefined, 0, from as never);
          } catch (e) {
            if ((e as { code?: string }).code === 'EAGAIN') break;
            throw e;
          }
          const r = parseResponse(buf.subarray(0, n));
          if (r === null || r.id !== id || from.addr !== ns) continue; // not ours (RFC 5452 §4.1)
          if (r.rcode !== 0) return null;
          // Follow the CNAME chain inside the answer.
          let target = name.toLowerCase();
          for (let i = 0; i < 8; i++) {
            const a = r.answers.find((x) => x.name.toLowerCase() === target && x.type === TYPE_A);
            if (a) return formatIpv4(a.addr);
            const c = r.answers.find((x) => x.name.toLowerCase() === target && x.type === TYPE_CNAME);
            if (!c) break;
            target = c.target.toLowerCase();
          }
          return null;
        }
      }
    }
    return 'timeout';
  } finally {
    p.sys.close(s);
  }
}
