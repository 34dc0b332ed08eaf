// The same Linux interop suite over the UDP-tunnel driver (QEMU's -netdev dgram format):
// socat bridges a TAP (moved into the test's namespace) to a UDP socket on 127.0.0.1, and
// tkl's UdpTunnelDevice talks to that socket. Skips without socat.
import { UdpTunnelDevice } from '../../src/drivers/net/udp_tunnel.js';
import { missingForNetns, sh, start } from './netns.js';
import { commonMissing, defineLinuxSuite } from './linux_suite.js';

const name = `tku${process.pid}`.slice(0, 15);

defineLinuxSuite({
  title: 'interop with Linux over the UDP tunnel (socat)',
  skip: commonMissing() ?? missingForNetns(['socat']),
  net: 1,
  tcpBytes: 16 * 1024 * 1024,
  async attach(ns) {
    // tkl binds port 0 and keeps it; socat connects to it from a port the kernel picks, which
    // is read back with ss (no port chosen by guessing, so concurrent suites cannot collide).
    const dev = await UdpTunnelDevice.open({ local: '127.0.0.1:0', remote: '127.0.0.1:1' });
    const tklPort = dev.localPort;
    const socat = start('socat', ['-b', '70000', `TUN,tun-type=tap,tun-name=${name},iff-no-pi,iff-up`, `UDP:127.0.0.1:${tklPort}`], 900_000);
    let socatPort = 0;
    for (let i = 0; i < 100 && socatPort === 0; i++) {
      const m = /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)/.exec(sh(`ss -H -u -n -a dst 127.0.0.1:${tklPort}`).stdout);
      if (m !== null && Number(m[2]) === tklPort) socatPort = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 50));
    }
    if (socatPort === 0) {
      socat.kill();
      dev.close();
      throw new Error('socat did not open its UDP socket');
    }
    await dev.setRemote(`127.0.0.1:${socatPort}`);
    for (let i = 0; i < 100 && sh(`ip link show ${name}`).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    const r = sh(`ip link set ${name} netns ${ns}`);
    if (r.code !== 0) {
      socat.kill();
      dev.close();
      throw new Error(`moving the socat TAP: ${r.stderr}`);
    }
    return {
      device: dev,
      ifname: name,
      cleanup: () => {
        socat.kill();
        dev.close();
      },
    };
  },
});
