// Commands about whole filesystems and disks: df, info, parts.

import type { Command } from 'commander';
import { imageArgs } from './read_cmds.js';
import { inSession } from './in_session.js';
import { CliError, cannot, human, printJson, UsageError } from './output.js';
import { fileDisk } from '../drivers/block/file_disk.js';
import { readPartitionTable } from '../block/partition_table.js';
import { PartitionDevice } from '../block/partition.js';
import { probe } from './probe.js';
import { partitionTypeName } from './part_types.js';
import { fatInfo } from './fat_info.js';

export function registerInfo(p: Command): void {
  p.command('df')
    .description('report filesystem space usage of images')
    .argument('<image...>', 'IMAGE[:PART] (or IMAGE[:PART]:/path)')
    .option('-h, --human-readable', 'sizes in powers of 1024 (K, M, G)')
    .option('-i, --inodes', 'inode usage instead of blocks')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  tkl df -h disk.img:1 disk.img:2\n  tkl df --json rootfs.img')
    .action(async (args: string[], o: { humanReadable?: boolean; inodes?: boolean; json?: boolean }) => {
      const addrs = imageArgs(args.map((a) => (a.includes(':/') ? a : `${a}:/`)));
      process.exitCode = await inSession((s, status) => {
        const rows: Record<string, unknown>[] = [];
        for (const a of addrs) {
          try {
            const img = s.open(a, false);
            const st = s.k.sys.statfs(img.mountPoint);
            const bs = st.frsize || st.bsize;
            rows.push({
              filesystem: img.name, type: img.probe.variant, blockSize: bs,
              size: st.blocks * bs, used: (st.blocks - st.bfree) * bs, available: st.bavail * bs,
              inodes: st.files, inodesUsed: st.files - st.ffree, inodesFree: st.ffree,
            });
          } catch (e) {
            if (e instanceof CliError) status.fail(e.message);
            else status.fail(cannot('statfs', a.text, e));
          }
        }
        if (o.json) return printJson(rows);
        // As df: nothing on stdout when no filesystem could be reported.
        if (rows.length === 0) return;
        const fmt = (n: number): string => (o.humanReadable ? human(n) : String(Math.ceil(n / 1024)));
        const header = o.inodes
          ? ['Filesystem', 'Type', 'Inodes', 'IUsed', 'IFree', 'IUse%']
          : ['Filesystem', 'Type', o.humanReadable ? 'Size' : '1K-blocks', 'Used', 'Avail', 'Use%'];
        const table = rows.map((r) => {
          const pct = (used: number, total: number): string => (total === 0 ? '-' : `${Math.ceil((used / total) * 100)}%`);
          return o.inodes
            ? [r.filesystem, r.type, r.inodes, r.inodesUsed, r.inodesFree, pct(r.inodesUsed as number, r.inodes as number)].map(String)
            : [r.filesystem, r.type, fmt(r.size as number), fmt(r.used as number), fmt(r.available as number),
                pct(r.used as number, (r.used as number) + (r.available as number))].map(String);
        });
        printTable([header, ...table]);
      });
    });

  p.command('info')
    .description('describe the filesystem in an image: type, features, label, UUID, block size, usage (FAT: its boot sector and FSInfo)')
    .argument('<image>', 'IMAGE[:PART]')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  tkl info --json disk.img:root')
    .action(async (arg: string, o: { json?: boolean }) => {
      const [a] = imageArgs([arg.includes(':/') ? arg : `${arg}:/`]);
      process.exitCode = await inSession((s) => {
        const img = s.open(a!, false);
        const st = s.k.sys.statfs(img.mountPoint);
        let details = s.describe(img);
        if (img.probe.type === 'vfat') {
          try {
            details = { ...details, ...fatInfo(img.device) };
          } catch (e) {
            throw new CliError(cannot('read the FAT boot sector of', img.name, e));
          }
        }
        const bs = st.frsize || st.bsize;
        const info = {
          image: a!.image, partition: img.partition, type: img.probe.variant, label: img.probe.label, uuid: img.probe.uuid,
          blockSize: bs, size: st.blocks * bs, used: (st.blocks - st.bfree) * bs, available: st.bavail * bs,
          inodes: st.files, inodesFree: st.ffree, ...details,
        };
        if (o.json) return printJson(info);
        for (const [k, v] of Object.entries(info)) {
          if (v === null || v === undefined) continue;
          const shown = Array.isArray(v) ? v.join(' ') : ['size', 'used', 'available'].includes(k) ? `${v} (${human(v as number)})` : String(v);
          process.stdout.write(`${(k + ':').padEnd(19)} ${shown}\n`);
        }
      });
    });

  p.command('parts')
    .description("list an image's partition table")
    .argument('<image>', 'disk image file')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  tkl parts --json disk.img')
    .action(async (image: string, o: { json?: boolean }) => {
      if (image.includes(':/')) throw new UsageError('parts takes an image file, not an address');
      let disk;
      try {
        disk = fileDisk(image, { readOnly: true });
      } catch (e) {
        throw new CliError(cannot('open', image, e));
      }
      try {
        let table;
        try {
          table = readPartitionTable(disk);
        } catch (e) {
          throw new CliError(`tkl: cannot read the partition table of '${image}': ${(e as Error).message}`);
        }
        // A FAT boot sector carries the 55 AA signature too: with no partition in it and a
        // filesystem at sector 0, it is a bare filesystem image (as blkid and partx see it).
        if (table !== null && table.label === 'dos' && table.partitions.length === 0 && probe(disk) !== null) table = null;
        const parts = (table?.partitions ?? []).map((x) => {
          const fs = x.extended ? null : probe(new PartitionDevice(disk, x.start, x.size, { readOnly: true }));
          return {
            number: x.number, start: x.firstLba, end: x.firstLba + x.sectors - 1, sectors: x.sectors, size: x.size,
            type: x.type, typeName: partitionTypeName(table!.label, x.type), name: x.name ?? null,
            filesystem: fs?.variant ?? null, label: fs?.label ?? null, bootable: x.bootable ?? false,
            ...(x.extended ? { extended: true } : {}), ...(x.logical ? { logical: true } : {}),
          };
        });
        const whole = table === null ? probe(disk) : null;
        const out = {
          image, size: disk.size, sectorSize: disk.sectorSize, table: table?.label ?? null, id: table?.id ?? null,
          partitions: parts, ...(whole !== null ? { filesystem: whole.variant, label: whole.label } : {}),
          warnings: table?.warnings ?? [],
        };
        if (o.json) return printJson(out);
        for (const w of out.warnings) process.stderr.write(`tkl: ${image}: ${w}\n`);
        process.stdout.write(`Disk ${image}: ${human(disk.size)}, ${disk.size} bytes, ${disk.size / disk.sectorSize} sectors\n`);
        if (table === null) {
          process.stdout.write(whole ? `No partition table: a bare ${whole.variant} filesystem${whole.label ? ` labelled '${whole.label}'` : ''}\n` : 'No partition table and no filesystem recognised\n');
          return;
        }
        process.stdout.write(`Partition table: ${table.label === 'dos' ? 'MBR (dos)' : 'GPT'}, id ${table.id}\n\n`);
        printTable([
          ['#', 'Start', 'End', 'Sectors', 'Size', 'Type', 'Name', 'FS', 'Label'],
          ...parts.map((x) => [
            String(x.number), String(x.start), String(x.end), String(x.sectors), human(x.size), x.typeName,
            x.name ?? '', x.filesystem ?? '', x.label ?? '',
          ]),
        ]);
      } finally {
        disk.close();
      }
    });
}

export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n');
}
