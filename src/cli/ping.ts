// `tkl ping HOST`: ICMP echo through a ping socket of tkl's own stack, printing round-trip
// times the way iputils ping does. Options: -c COUNT, -i INTERVAL (s), -s SIZE, -W TIMEOUT (s).

import { IPPROTO_ICMP, SOCK_DGRAM, SOL_SOCKET, SO_RCVTIMEO } from '../abi/linux/socket.js';
import { resolve4 } from '../net/dns/resolver.js';
import { AF_INET } from '../net/socket/sockaddr.js';
import { netHelp, netUsage, parseNetArgs, setupNet } from './netopts.js';
import { reason } from './output.js';

export async function ping(argv: string[]): Promise<number> {
  let count = 4;
  let interval = 1;
  let size = 56;
  let wait = 2;
  let host: string | undefined;
  let parsed;
  try {
    parsed = parseNetArgs(argv);
    const a = parsed.args;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const num = (): number => {
        const v = Number(a[++i]);
        if (!Number.isFinite(v) || v < 0) throw new Error(`bad value for ${x}`);
        return v;
      };
      if (x === '--help' || x === '-h') {
        console.log(`usage: tkl ping [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT] ${netUsage} HOST\n\n${netHelp}\n\nexamples:\n  tkl ping -c 3 127.0.0.1\n  tkl ping --net tap:tkl0 --ip 10.0.0.2/24 -c 3 10.0.0.1\n  tkl ping --net passt --dhcp example.org`);
        return 0;
      } else if (x === '-c') {
        // iputils refuses a count of 0 ("out of range: 1 <= value <= …") rather than pinging forever.
        count = Math.floor(num());
        if (count < 1) throw new Error(`invalid argument: '${a[i]}': out of range: 1 <= value <= ${Number.MAX_SAFE_INTEGER}`);
      }
      else if (x === '-i') interval = num();
      else if (x === '-s') {
        // 65507 = 65535 − 20 (IPv4 header) − 8 (ICMP header): the largest echo payload one
        // datagram carries; ping refuses more ("packet size N is too large. Maximum is 65507").
        size = Math.floor(num());
        if (size > 65507) throw new Error(`packet size ${size} is too large. Maximum is 65507`);
      }
      else if (x === '-W') wait = num();
      else if (x.startsWith('-')) throw new Error(`unknown option '${x}'`);
      else host = x;
    }
    if (host === undefined) throw new Error('no HOST');
  } catch (e) {
    console.error(`tkl ping: ${(e as Error).message}`);
    return 2;
  }
  let ready;
  try {
    ready = await setupNet(parsed.net);
  } catch (e) {
    console.error(`tkl ping: ${(e as Error).message}`);
    return 1;
  }
  const { k, close } = ready;
  try {
    let addr: string;
    try {
      addr = await resolve4(k, host);
    } catch (e) {
      console.error(`tkl ping: ${host}: ${(e as Error).message}`);
      return 2;
    }
    const s = k.sys.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    k.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: Math.floor(wait), usec: Math.round((wait % 1) * 1e6) });
    console.log(`PING ${host} (${addr}) ${size}(${size + 28}) bytes of data.`);
    const host_ = k.kernel.host;
    const rtts: number[] = [];
    const start = host_.monotonic();
    const buf = new Uint8Array(size + 8 + 100);
    for (let seq = 1; seq <= count; seq++) {
      const req = new Uint8Array(8 + size);
      req[0] = 8;
      req[6] = seq >> 8;
      req[7] = seq & 0xff;
      for (let i = 8; i < req.length; i++) req[i] = i & 0xff;
      const t0 = host_.monotonic();
      try {
        await k.sys.sendto(s, req, undefined, 0, { family: AF_INET, addr, port: 0 });
      } catch (e) {
        // As iputils: no route at all is a failure of the command, not a lost packet.
        console.error(`tkl ping: sendto: ${reason(e)}`);
        k.sys.close(s);
        return 2;
      }
      for (;;) {
        let n: number;
        try {
          n = await k.sys.recvfrom(s, buf);
        } catch (e) {
          if ((e as { code?: string }).code === 'EAGAIN') break;
          console.log(`From ${addr} icmp_seq=${seq} ${(e as Error).message.split(',')[0]}`);
          break;
        }
        const rseq = (buf[6]! << 8) | buf[7]!;
        if (buf[0] !== 0 || rseq !== seq) continue;
        const ms = (host_.monotonic() - t0) / 1e6;
        rtts.push(ms);
        console.log(`${n} bytes from ${addr}: icmp_seq=${seq} time=${ms < 10 ? ms.toFixed(3) : ms.toFixed(1)} ms`);
        break;
      }
      if (seq < count) {
        const left = interval * 1e3 - (host_.monotonic() - t0) / 1e6;
        if (left > 0) await new Promise((r) => setTimeout(r, left));
      }
    }
    const total = Math.round((host_.monotonic() - start) / 1e6);
    const loss = count === 0 ? 0 : Math.round(((count - rtts.length) / count) * 100);
    console.log(`\n--- ${host} ping statistics ---\n${count} packets transmitted, ${rtts.length} received, ${loss}% packet loss, time ${total}ms`);
    if (rtts.length > 0) {
      const avg = rtts.reduce((x, y) => x + y, 0) / rtts.length;
      const mdev = Math.sqrt(rtts.reduce((x, y) => x + (y - avg) ** 2, 0) / rtts.length);
      console.log(`rtt min/avg/max/mdev = ${rtts.reduce((x, y) => Math.min(x, y)).toFixed(3)}/${avg.toFixed(3)}/${rtts.reduce((x, y) => Math.max(x, y)).toFixed(3)}/${mdev.toFixed(3)} ms`);
    }
    k.sys.close(s);
    return rtts.length > 0 ? 0 : 1;
  } finally {
    close();
  }
}
