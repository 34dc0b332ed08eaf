// The ext2, ext3 and ext4 filesystem types mount(2) knows (Linux's ext4 driver serves all
// three names): 'ext4' mounts any supported image; 'ext2' and 'ext3' refuse images with
// features those filesystems lack, as Linux does.

import type { FileSystemType, MountContext, SuperBlock } from '../../vfs/superblock.js';
import { Ext4Fs, type Flavour } from './super.js';

function makeType(name: Flavour): FileSystemType {
  const t: FileSystemType = {
    name,
    requiresDevice: true,
    mount(ctx: MountContext): SuperBlock {
      return new Ext4Fs(t, ctx, name);
    },
  };
  return t;
}

export const ext4Type = makeType('ext4');
export const ext3Type = makeType('ext3');
export const ext2Type = makeType('ext2');
