// The syscall table: every syscall tkl implements, with its x86_64 number, its handler, whether
// it can block, which arguments are paths (for error messages), and how complete it is.
// The public k.sys API and the adapters are generated from this one list.

import * as attr from './sys_attr.js';
import * as dir from './sys_dir.js';
import * as epoll from './sys_epoll.js';
import * as fadvise from './sys_fadvise.js';
import * as fd from './sys_fd.js';
import * as ioctl from './sys_ioctl.js';
import * as mount from './sys_mount.js';
import * as namei from './sys_namei.js';
import * as open from './sys_open.js';
import * as poll from './sys_poll.js';
import * as proc from './sys_proc.js';
import * as random from './sys_random.js';
import * as rw from './sys_rw.js';
import * as socket from './sys_socket.js';
import * as sched from './sys_sched.js';
import * as stat from './sys_stat.js';
import * as sync from './sys_sync.js';
import * as time from './sys_time.js';
import * as xattr from './sys_xattr.js';
import type { Task } from '../task.js';

export interface SyscallEntry {
  /** The x86_64 syscall number. */
  readonly nr: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly fn: (t: Task, ...args: any[]) => unknown;
  /** May wait (pipes, ttys, sockets, poll): the public API returns a Promise. */
  readonly blocking?: true;
  /** Argument positions holding paths: [path] or [path, dest], for Node-shaped errors. */
  readonly paths?: readonly number[];
  /** What is missing, where something is. */
  readonly partial?: string;
}

interface More {
  blocking?: true;
  paths?: readonly number[];
  partial?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function e<F extends (t: Task, ...args: any[]) => unknown, M extends More = {}>(nr: number, fn: F, more?: M): { nr: number; fn: F } & M {
  return { nr, fn, ...(more as M) };
}

const B = { blocking: true } as const;

export const SYSCALLS = {
  read: e(0, rw.sys_read, B),
  write: e(1, rw.sys_write, B),
  open: e(2, open.sys_open, { paths: [0] }),
  close: e(3, open.sys_close),
  stat: e(4, stat.sys_stat, { paths: [0] }),
  fstat: e(5, stat.sys_fstat),
  lstat: e(6, stat.sys_lstat, { paths: [0] }),
  poll: e(7, poll.sys_poll, B),
  lseek: e(8, rw.sys_lseek),
  ioctl: e(16, ioctl.sys_ioctl, { partial: 'requests of the file types that have them (FAT attributes); not the generic FIOCLEX, FIONBIO, …' }),
  pread64: e(17, rw.sys_pread64),
  pwrite64: e(18, rw.sys_pwrite64),
  readv: e(19, rw.sys_readv, B),
  writev: e(20, rw.sys_writev, B),
  access: e(21, attr.sys_access, { paths: [0] }),
  pipe: e(22, fd.sys_pipe),
  sched_yield: e(24, sched.sys_sched_yield),
  dup: e(32, fd.sys_dup),
  dup2: e(33, fd.sys_dup2),
  nanosleep: e(35, time.sys_nanosleep, B),
  getpid: e(39, proc.sys_getpid),
  // ---- sockets (net/): AF_INET stream/dgram (and ICMP ping), AF_UNIX stream/dgram ----
  socket: e(41, socket.sys_socket, { partial: 'AF_INET (TCP, UDP, ICMP ping) and AF_UNIX stream/dgram; no AF_INET6, raw or packet sockets' }),
  connect: e(42, socket.sys_connect, B),
  accept: e(43, socket.sys_accept, B),
  sendto: e(44, socket.sys_sendto, B),
  recvfrom: e(45, socket.sys_recvfrom, B),
  sendmsg: e(46, socket.sys_sendmsg, { ...B, partial: 'no ancillary data (SCM_RIGHTS, IP_PKTINFO)' }),
  recvmsg: e(47, socket.sys_recvmsg, { ...B, partial: 'no ancillary data' }),
  shutdown: e(48, socket.sys_shutdown),
  bind: e(49, socket.sys_bind),
  listen: e(50, socket.sys_listen),
  getsockname: e(51, socket.sys_getsockname),
  getpeername: e(52, socket.sys_getpeername),
  socketpair: e(53, socket.sys_socketpair),
  setsockopt: e(54, socket.sys_setsockopt),
  getsockopt: e(55, socket.sys_getsockopt),
  uname: e(63, proc.sys_uname),
  fcntl: e(72, fd.sys_fcntl, { partial: 'no record locks (F_GETLK/F_SETLK/F_OFD_*), leases or F_SETOWN' }),
  fsync: e(74, sync.sys_fsync),
  fdatasync: e(75, sync.sys_fdatasync),
  truncate: e(76, attr.sys_truncate, { paths: [0] }),
  ftruncate: e(77, attr.sys_ftruncate),
  getcwd: e(79, dir.sys_getcwd),
  chdir: e(80, dir.sys_chdir, { paths: [0] }),
  fchdir: e(81, dir.sys_fchdir),
  rename: e(82, namei.sys_rename, { paths: [0, 1] }),
  mkdir: e(83, namei.sys_mkdir, { paths: [0] }),
  rmdir: e(84, namei.sys_rmdir, { paths: [0] }),
  creat: e(85, open.sys_creat, { paths: [0] }),
  link: e(86, namei.sys_link, { paths: [0, 1] }),
  unlink: e(87, namei.sys_unlink, { paths: [0] }),
  symlink: e(88, namei.sys_symlink, { paths: [0, 1] }),
  readlink: e(89, namei.sys_readlink, { paths: [0] }),
  chmod: e(90, attr.sys_chmod, { paths: [0] }),
  fchmod: e(91, attr.sys_fchmod),
  chown: e(92, attr.sys_chown, { paths: [0] }),
  fchown: e(93, attr.sys_fchown),
  lchown: e(94, attr.sys_lchown, { paths: [0] }),
  umask: e(95, proc.sys_umask),
  getuid: e(102, proc.sys_getuid),
  getgid: e(104, proc.sys_getgid),
  setuid: e(105, proc.sys_setuid),
  setgid: e(106, proc.sys_setgid),
  geteuid: e(107, proc.sys_geteuid),
  getegid: e(108, proc.sys_getegid),
  getppid: e(110, proc.sys_getppid),
  getgroups: e(115, proc.sys_getgroups),
  setgroups: e(116, proc.sys_setgroups),
  setresuid: e(117, proc.sys_setresuid),
  getresuid: e(118, proc.sys_getresuid),
  setresgid: e(119, proc.sys_setresgid),
  getresgid: e(120, proc.sys_getresgid),
  mknod: e(133, namei.sys_mknod, { paths: [0] }),
  statfs: e(137, stat.sys_statfs, { paths: [0] }),
  fstatfs: e(138, stat.sys_fstatfs),
  chroot: e(161, dir.sys_chroot, { paths: [0] }),
  sync: e(162, sync.sys_sync),
  mount: e(165, mount.sys_mount, { paths: [1, 0], partial: 'no mount propagation: MS_SHARED is refused, MS_PRIVATE/MS_SLAVE/MS_UNBINDABLE are no-ops' }),
  umount2: e(166, mount.sys_umount2, { paths: [0] }),
  sethostname: e(170, proc.sys_sethostname),
  gettid: e(186, proc.sys_gettid),
  setxattr: e(188, xattr.sys_setxattr, { paths: [0] }),
  lsetxattr: e(189, xattr.sys_lsetxattr, { paths: [0] }),
  fsetxattr: e(190, xattr.sys_fsetxattr),
  getxattr: e(191, xattr.sys_getxattr, { paths: [0] }),
  lgetxattr: e(192, xattr.sys_lgetxattr, { paths: [0] }),
  fgetxattr: e(193, xattr.sys_fgetxattr),
  listxattr: e(194, xattr.sys_listxattr, { paths: [0] }),
  llistxattr: e(195, xattr.sys_llistxattr, { paths: [0] }),
  flistxattr: e(196, xattr.sys_flistxattr),
  removexattr: e(197, xattr.sys_removexattr, { paths: [0] }),
  lremovexattr: e(198, xattr.sys_lremovexattr, { paths: [0] }),
  fremovexattr: e(199, xattr.sys_fremovexattr),
  epoll_create: e(213, epoll.sys_epoll_create),
  getdents64: e(217, dir.sys_getdents64),
  fadvise64: e(221, fadvise.sys_fadvise64, { partial: 'advice is checked and accepted, and changes nothing' }),
  clock_gettime: e(228, time.sys_clock_gettime, { partial: 'the CPU-time clocks count the time since the task began' }),
  clock_getres: e(229, time.sys_clock_getres),
  clock_nanosleep: e(230, time.sys_clock_nanosleep, B),
  epoll_wait: e(232, epoll.sys_epoll_wait, B),
  epoll_ctl: e(233, epoll.sys_epoll_ctl),
  openat: e(257, open.sys_openat, { paths: [1] }),
  mkdirat: e(258, namei.sys_mkdirat, { paths: [1] }),
  mknodat: e(259, namei.sys_mknodat, { paths: [1] }),
  fchownat: e(260, attr.sys_fchownat, { paths: [1] }),
  newfstatat: e(262, stat.sys_newfstatat, { paths: [1] }),
  unlinkat: e(263, namei.sys_unlinkat, { paths: [1] }),
  renameat: e(264, namei.sys_renameat, { paths: [1, 3] }),
  linkat: e(265, namei.sys_linkat, { paths: [1, 3] }),
  symlinkat: e(266, namei.sys_symlinkat, { paths: [0, 2] }),
  readlinkat: e(267, namei.sys_readlinkat, { paths: [1] }),
  fchmodat: e(268, attr.sys_fchmodat, { paths: [1] }),
  faccessat: e(269, attr.sys_faccessat, { paths: [1] }),
  ppoll: e(271, poll.sys_ppoll, { ...B, partial: 'signal masks are accepted and ignored (no signals)' }),
  utimensat: e(280, attr.sys_utimensat, { paths: [1] }),
  epoll_pwait: e(281, epoll.sys_epoll_pwait, { ...B, partial: 'signal masks are accepted and ignored (no signals)' }),
  fallocate: e(285, attr.sys_fallocate),
  accept4: e(288, socket.sys_accept4, B),
  epoll_create1: e(291, epoll.sys_epoll_create1),
  dup3: e(292, fd.sys_dup3),
  pipe2: e(293, fd.sys_pipe2),
  preadv: e(295, rw.sys_preadv),
  pwritev: e(296, rw.sys_pwritev),
  syncfs: e(306, sync.sys_syncfs),
  renameat2: e(316, namei.sys_renameat2, { paths: [1, 3], partial: 'RENAME_WHITEOUT answers EINVAL' }),
  getrandom: e(318, random.sys_getrandom),
  statx: e(332, stat.sys_statx, { paths: [1] }),
  close_range: e(436, open.sys_close_range),
  faccessat2: e(439, attr.sys_faccessat2, { paths: [1] }),
  fchmodat2: e(452, attr.sys_fchmodat, { paths: [1] }),
} as const;

export type SyscallName = keyof typeof SYSCALLS;
