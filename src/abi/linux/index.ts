// Linux's ABI values, all in one namespace for users (`import { O_CREAT } from 'tkl'`).
export * from './errno.js';
export * from './fcntl.js';
export * from './stat.js';
export * from './mount.js';
export * from './poll.js';
export * from './limits.js';
export * from './time.js';
export * from './socket.js';
export * from './msdos_fs.js';
