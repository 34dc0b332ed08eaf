// Doorbell: how other threads wake a thread that runs a kernel synchronously. It is one
// 32-bit word in a SharedArrayBuffer: a producer puts its input in shared memory, bumps the
// word and notifies (ring()); the kernel's thread sleeps in Atomics.wait on the word and,
// when it changed, runs its interrupt handlers (check()) — which wake the kernel's wait
// queues so blocked syscalls retry.

export class Doorbell {
  private seen: number;
  private readonly handlers: (() => void)[] = [];

  /**
   * `word` is the shared word; without one the doorbell is private and `external` is false:
   * nothing outside the thread can ring it.
   */
  constructor(
    readonly word: Int32Array = new Int32Array(new SharedArrayBuffer(4)),
    readonly external = true,
  ) {
    this.seen = Atomics.load(word, 0);
  }

  /** A doorbell nobody else holds (for a kernel and program alone in their thread). */
  static private(): Doorbell {
    return new Doorbell(undefined, false);
  }

  /** Rings the doorbell held in `word`, from any thread. */
  static ring(word: Int32Array): void {
    Atomics.add(word, 0, 1);
    Atomics.notify(word, 0);
  }

  /** Registers an interrupt handler: check() runs it after each ring. */
  onRing(handler: () => void): void {
    this.handlers.push(handler);
  }

  /** Runs the handlers if the doorbell rang since the last check; returns whether it had. */
  check(): boolean {
    const v = Atomics.load(this.word, 0);
    if (v === this.seen) return false;
    this.seen = v;
    for (const h of this.handlers) h();
    return true;
  }

  /** Sleeps until a ring or `timeoutMs` (Infinity: no limit); returns at once after an unseen ring. */
  wait(timeoutMs: number): void {
    if (timeoutMs > 0) Atomics.wait(this.word, 0, this.seen, timeoutMs);
  }
}
