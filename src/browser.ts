// tkl for browsers: `import { boot } from 'tkl'` resolves here under the "browser" condition.

import { BrowserHost } from './host/browser/browser_host.js';
import { bootWith, type BootOptions, type Tkl } from './api/boot.js';

export function boot(options: BootOptions = {}): Tkl {
  return bootWith(options.host ?? new BrowserHost(), options);
}

export * from './abi/linux/index.js';
export { Tkl, Process, type BootOptions, type ProcessOptions } from './api/boot.js';
export { Sys, SystemError, type SysMethods } from './api/syscall/sys.js';
export { Fs } from './api/fs.js';
export { SimHost } from './host/sim/sim_host.js';
export { BrowserHost } from './host/browser/browser_host.js';
