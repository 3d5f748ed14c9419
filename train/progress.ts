/**
 * A one-line progress bar for the terminal: epoch, batch, loss, accuracy,
 * images per second and time left. It redraws in place on a TTY and stays
 * quiet otherwise (only `done` lines are printed).
 *
 * @module
 */

/** Where progress goes: a TTY gets a live bar; anything else only the per-epoch lines. */
export class Progress {
  readonly #tty: boolean;
  readonly #out: { writeSync(p: Uint8Array): number };
  readonly #enc = new TextEncoder();
  #lastDraw = 0;

  /** @param stream The output; defaults to stderr. */
  constructor(stream: { writeSync(p: Uint8Array): number; isTerminal(): boolean } = Deno.stderr) {
    this.#out = stream;
    this.#tty = stream.isTerminal();
  }

  /** Redraws the bar (at most 10 times a second). */
  update(s: {
    epoch: number;
    epochs: number;
    batch: number;
    batches: number;
    loss: number;
    accuracy: number;
    imagesPerSecond: number;
    secondsLeft: number;
  }): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && s.batch < s.batches) return;
    this.#lastDraw = now;
    const width = 24, filled = Math.round((width * s.batch) / s.batches);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const eta = s.secondsLeft >= 60
      ? `${Math.floor(s.secondsLeft / 60)}m${
        String(Math.round(s.secondsLeft % 60)).padStart(2, "0")
      }s`
      : `${Math.round(s.secondsLeft)}s`;
    this.#write(
      `\r\x1b[2Kepoch ${s.epoch}/${s.epochs} ${bar} ${s.batch}/${s.batches}  loss ${
        s.loss.toFixed(4)
      }  acc ${(100 * s.accuracy).toFixed(2)}%  ${Math.round(s.imagesPerSecond)} img/s  ETA ${eta}`,
    );
  }

  /** Ends the current line with a summary (printed on a TTY and off it). */
  done(line: string): void {
    this.#write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  #write(s: string): void {
    this.#out.writeSync(this.#enc.encode(s));
  }
}
