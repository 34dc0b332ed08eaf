// tkl's TCP/IP stack against the Linux kernel's through a TAP device (the optional addon)
// moved into a network namespace this suite creates and removes. See linux_suite.ts.
import { tapAddon, TapDevice } from '../../src/drivers/net/tap.js';
import { sh } from './netns.js';
import { commonMissing, defineLinuxSuite } from './linux_suite.js';

const name = `tkt${process.pid}`.slice(0, 15);

defineLinuxSuite({
  title: 'interop with Linux over TAP',
  skip: commonMissing() ?? (tapAddon() === null ? 'the TAP addon is not built (node scripts/build-tap-addon.js)' : null),
  net: 0,
  tcpBytes: 100 * 1024 * 1024,
  async attach(ns) {
    const device = TapDevice.open({ name });
    const r = sh(`ip link set ${name} netns ${ns}`);
    if (r.code !== 0) throw new Error(r.stderr);
    return { device, ifname: name, cleanup: () => device.close() };
  },
});
