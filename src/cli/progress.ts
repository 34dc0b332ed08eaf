// A progress bar for copies that take more than a moment: on stderr, only when it is a
// terminal and --quiet was not given, and only once the copy has run for half a second.

import { SingleBar } from 'cli-progress';
import { human } from './output.js';

export class Progress {
  private bar: SingleBar | null = null;
  private bytes = 0;
  private entries = 0;
  private readonly started = Date.now();

  constructor(
    private readonly totalBytes: number,
    private readonly totalEntries: number,
  ) {}

  /** A progress bar when stderr is a TTY and the user did not ask for quiet, else null. */
  static maybe(quiet: boolean, totals: () => { bytes: number; entries: number }): Progress | null {
    if (quiet || !process.stderr.isTTY) return null;
    const t = totals();
    return new Progress(t.bytes, t.entries);
  }

  advance(bytes: number, entries: number): void {
    this.bytes += bytes;
    this.entries += entries;
    if (this.bar === null) {
      if (Date.now() - this.started < 500) return;
      this.bar = new SingleBar({
        stream: process.stderr,
        format: ' {bar} {percentage}% | {done}/{size} | {entries}/{totalEntries} files | {eta_formatted} left',
        hideCursor: true,
        clearOnComplete: true,
      });
      this.bar.start(Math.max(1, this.totalBytes), 0, { done: '0', size: human(this.totalBytes), entries: 0, totalEntries: this.totalEntries });
    }
    this.bar.update(Math.min(this.bytes, this.totalBytes), {
      done: human(this.bytes), size: human(this.totalBytes), entries: this.entries, totalEntries: this.totalEntries,
    });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
