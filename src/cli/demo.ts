// `tkl demo`: boots a kernel, makes a few files through the syscalls and prints the result.

import type { Command } from 'commander';
import { boot } from '../index.js';
import { O_CREAT, O_WRONLY, AT_FDCWD } from '../abi/linux/fcntl.js';

export function registerDemo(p: Command): void {
  p.command('demo')
    .description('boot a kernel in this process, build a small tree through its syscalls and show it')
    .addHelpText('after', '\nExample:\n  tkl demo')
    .action(async () => {
      process.exitCode = await demo();
    });
}

export async function demo(): Promise<number> {
  const k = boot({ hostname: 'demo' });
  k.fs.mkdir('/srv/www/css', { recursive: true });
  k.fs.writeFile('/srv/www/index.html', '<h1>hello from tkl</h1>\n');
  k.fs.writeFile('/srv/www/css/site.css', 'body { font-family: sans-serif }\n');
  k.sys.symlink('index.html', '/srv/www/home.html');
  const fd = k.sys.openat(AT_FDCWD, '/srv/www/log.txt', O_CREAT | O_WRONLY, 0o600);
  await k.sys.write(fd, new TextEncoder().encode(`booted at ${new Date().toISOString()}\n`));
  k.sys.close(fd);
  for (const e of k.fs.walk('/srv')) {
    const mode = (e.stat.mode & 0o7777).toString(8).padStart(4, '0');
    const link = (e.stat.mode & 0o170000) === 0o120000 ? ` -> ${k.fs.readlink(e.path)}` : '';
    console.log(`${mode} ${String(e.stat.size).padStart(6)}  ${e.path}${link}`);
  }
  console.log('\n/proc/mounts:');
  process.stdout.write(k.fs.readFile('/proc/mounts', 'utf8'));
  const u = k.sys.uname();
  console.log(`\nuname: ${u.sysname} ${u.nodename} ${u.release} ${u.machine}`);
  return 0;
}
