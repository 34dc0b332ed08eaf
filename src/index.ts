// tkl for Node.js: `import { boot } from 'tkl'`. boot() is synchronous (`await boot()` works too).

import { NodeHost } from './host/node/node_host.js';
import { bootWith, type BootOptions, type Tkl } from './api/boot.js';

export function boot(options: BootOptions = {}): Tkl {
  return bootWith(options.host ?? new NodeHost(), options);
}

export * from './abi/linux/index.js';
export { Tkl, Process, type BootOptions, type ProcessOptions } from './api/boot.js';
export { Sys, SystemError, type SysMethods } from './api/syscall/sys.js';
export { Fs, type FileStat, type WalkEntry } from './api/fs.js';
export type { Stat, Statx } from './kernel/syscalls/sys_stat.js';
export type { Dirent64 } from './kernel/syscalls/sys_dir.js';
export type { PollFd } from './kernel/syscalls/sys_poll.js';
export type { Utsname } from './kernel/syscalls/sys_proc.js';
export type { StatFs } from './vfs/superblock.js';
export type { Timespec } from './vfs/time.js';
export { SYSCALLS } from './kernel/syscalls/table.js';
export { Kernel, type KernelOptions } from './kernel/kernel.js';
export { Errno } from './kernel/errno.js';
export type { HostOps, Instant, Duration, TimerHandle } from './host/host_ops.js';
export { NodeHost } from './host/node/node_host.js';
export { SimHost, type SimHostOptions } from './host/sim/sim_host.js';
export type { BlockDevice } from './block/block_device.js';
export { MemoryDisk, memoryDisk } from './drivers/block/memory_disk.js';
export { FileDisk, fileDisk, type FileDiskOptions } from './drivers/block/file_disk.js';
export { BufferCache, BufferHead } from './block/buffer_cache.js';
// Partition tables and partitions as devices (block/), FAT (fs/fat).
export { readPartitionTable, dataPartitions, openPartition } from './block/partition_table.js';
export { PartitionDevice, type Partition, type PartitionTable } from './block/partition.js';
export { writeMbr, type MbrPartitionSpec, type MbrOptions } from './block/mbr.js';
export { writeGpt, GPT_TYPES, type GptPartitionSpec, type GptOptions } from './block/gpt.js';
export { mkfsFat, type MkfsFatOptions, type FatLayout } from './fs/fat/mkfs.js';
export { vfatType } from './fs/fat/super.js';
// WASI preview1 and unikernels (issue 6).
export { run, runSync, type RunOptions, type RunResult } from './api/wasi/run.js';
export { WasiPreview1, WasiExit, type WasiOptions, type Preopen } from './api/wasi/wasi.js';
export type { DirMount, ProgramConfig } from './api/wasi/program.js';
export type { DiskMount } from './api/wasi/disks.js';
export { hostfsType } from './fs/hostfs/hostfs.js';
export { WorkerHost } from './host/worker/worker_host.js';

// Networking (net/, drivers/net/): the stack, devices and their wrappers, DHCP and DNS.
export { NetStack, type RouteSpec } from './net/stack.js';
export { DeviceStats, type NetDevice } from './net/netdevice.js';
export { MemoryLink, MemorySwitch, type LinkParams } from './drivers/net/memory_link.js';
export { UdpTunnelDevice, type UdpTunnelOptions } from './drivers/net/udp_tunnel.js';
export { StreamDevice, type StreamOptions } from './drivers/net/stream.js';
export { TapDevice, type TapOptions } from './drivers/net/tap.js';
export { PcapTap, PcapWriter } from './drivers/net/pcap.js';
export { FaultDevice, type FaultParams } from './drivers/net/fault.js';
export { dhcpConfigure, type DhcpLease } from './net/dhcp/client.js';
export { resolve4 } from './net/dns/resolver.js';
export { AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, encodeSockAddr, decodeSockAddr, type SockAddr, type SockAddrIn, type SockAddrUn } from './net/socket/sockaddr.js';
export type { TcpInfo } from './net/tcp/tcp_socket.js';
export type { MsgHdr } from './kernel/syscalls/sys_socket.js';
export type { EpollEvent } from './kernel/epoll.js';
// ext2/3/4 (fs/ext4): mkfs for disk images; mounting goes through k.sys.mount(dev, dir, 'ext4').
export { mkfsExt4, type MkfsOptions, type MkfsResult } from './fs/ext4/mkfs.js';
