// tkl's TCP/IP stack against the Linux kernel's through a TAP device (the optional addon)
// moved into a network namespace this suite creates and removes. See linux_suite.ts. Twice:
// with offload (virtio-net header: checksums and TSO left to Linux both ways) and without.
import assert from 'node:assert/strict';
import { tapAddon, TapDevice } from '../../src/drivers/net/tap.js';
import { sh } from './netns.js';
import { commonMissing, defineLinuxSuite } from './linux_suite.js';

const skip = commonMissing() ?? (tapAddon() === null ? 'the TAP addon is not built (node scripts/build-tap-addon.js)' : null);

defineLinuxSuite({
  title: 'interop with Linux over TAP, offload on (virtio-net header, TSO both ways)',
  skip,
  net: 0,
  tcpBytes: 100 * 1024 * 1024,
  async attach(ns) {
    const name = `tkt${process.pid}`.slice(0, 15);
    const device = TapDevice.open({ name });
    const r = sh(`ip link set ${name} netns ${ns}`);
    if (r.code !== 0) throw new Error(r.stderr);
    return {
      device,
      ifname: name,
      cleanup: () => device.close(),
      checks() {
        assert.equal(device.offloadError, null, 'offload was granted');
        assert.ok(device.offload && device.checksumOffload && device.gsoMaxSize > device.mtu);
        const o = device.offloadStats;
        assert.ok(o.txGsoFrames > 0, 'tkl handed Linux TCP super-frames to segment');
        assert.ok(o.rxGsoFrames > 0, 'Linux handed tkl coalesced TCP frames');
        assert.equal(o.rxBadHeader, 0, 'no malformed virtio-net header from Linux');
        assert.equal(o.rxBadChecksum, 0, 'no bad checksum on frames Linux did not vouch for');
        assert.equal(device.stats.txErrors, 0, 'Linux accepted every virtio-net header');
      },
    };
  },
});

defineLinuxSuite({
  title: 'interop with Linux over TAP, offload off (one plain frame per read/write)',
  skip,
  net: 6,
  tcpBytes: 16 * 1024 * 1024,
  async attach(ns) {
    const name = `tko${process.pid}`.slice(0, 15);
    const device = TapDevice.open({ name, offload: false });
    const r = sh(`ip link set ${name} netns ${ns}`);
    if (r.code !== 0) throw new Error(r.stderr);
    return {
      device,
      ifname: name,
      cleanup: () => device.close(),
      checks() {
        assert.ok(!device.offload && !device.checksumOffload && device.gsoMaxSize === 0);
        assert.equal(device.offloadStats.txGsoFrames + device.offloadStats.rxGsoFrames, 0);
      },
    };
  },
});
