/**
 * The async iterator behind `QmpClient.events()`: a queue fed by the client, ended when the
 * connection closes or the consumer stops iterating.
 * @module
 */
import type { QmpEvent } from "./types.ts";

/** Queue-backed async iterator of events. */
export class EventStream implements AsyncIterableIterator<QmpEvent> {
  private readonly queue: QmpEvent[] = [];
  private waiting: ((r: IteratorResult<QmpEvent>) => void) | undefined;
  private done = false;

  constructor(private readonly detach: () => void) {}

  /** Called by the client for each event. */
  push(e: QmpEvent): void {
    if (this.done) return;
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w({ value: e, done: false });
    } else this.queue.push(e);
  }

  /** Ends the stream after the queued events are consumed. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<QmpEvent>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<QmpEvent>> {
    this.queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<QmpEvent> {
    return this;
  }
}
