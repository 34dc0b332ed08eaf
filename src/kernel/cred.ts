// Cred: a task's credentials (Linux's struct cred). uid 0 stands for every capability, as it
// does on Linux without user namespaces; filesystem checks use fsuid/fsgid.

export class Cred {
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
  fsuid: number;
  fsgid: number;
  /** Supplementary groups. */
  groups: number[];

  constructor(uid = 0, gid = 0, groups: number[] = []) {
    this.uid = this.euid = this.suid = this.fsuid = uid;
    this.gid = this.egid = this.sgid = this.fsgid = gid;
    this.groups = groups.slice();
  }

  clone(): Cred {
    const c = new Cred(this.uid, this.gid, this.groups);
    c.euid = this.euid;
    c.egid = this.egid;
    c.suid = this.suid;
    c.sgid = this.sgid;
    c.fsuid = this.fsuid;
    c.fsgid = this.fsgid;
    return c;
  }

  /** in_group_p: the filesystem group or a supplementary group is `gid`. */
  inGroup(gid: number): boolean {
    return this.fsgid === gid || this.groups.includes(gid);
  }

  /** Holds the capabilities that override file permissions (CAP_DAC_OVERRIDE, CAP_FOWNER, …). */
  get fsCapable(): boolean {
    return this.fsuid === 0;
  }

  /** Holds CAP_SYS_ADMIN and the other administrative capabilities. */
  get capable(): boolean {
    return this.euid === 0;
  }
}
