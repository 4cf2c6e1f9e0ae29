import cliProgress from 'cli-progress';

/** Where progress goes; a terminal (isTTY) gets a live bar, anything else plain log lines. */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
}

/** How a progress reporter prints. */
export interface ProgressOptions {
  /** Print nothing at all. */
  quiet?: boolean;
  /** Defaults to stderr, because stdout is reserved for --json output. */
  stream?: ProgressStream;
  /** Steps between lines when the stream is not a terminal (default 50); a phase's last step always prints. */
  logEvery?: number;
  /** Millisecond clock; injectable so rates and ETAs are testable. */
  now?: () => number;
}

/** Progress through a phase so far. */
export interface StepProgress {
  /** Steps completed in this phase. */
  step: number;
  /** Images processed in this phase. */
  images: number;
  /** Latest training loss, if the phase has one. */
  loss?: number;
}

/** Reports training and evaluation progress, phase by phase. */
export interface ProgressReporter {
  /** Starts a phase (an epoch, an evaluation pass) of `totalSteps` steps. */
  begin(label: string, totalSteps: number): void;
  /** Records progress within the current phase. */
  update(progress: StepProgress): void;
  /** Ends the current phase. */
  end(): void;
  /** Prints a line of text between phases (an epoch summary, a warning). */
  note(line: string): void;
}

/** Creates a reporter: a live bar on a terminal, periodic log lines otherwise, or nothing when quiet. */
export function createProgressReporter(options: ProgressOptions = {}): ProgressReporter {
  if (options.quiet === true) return { begin() {}, update() {}, end() {}, note() {} };
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  return stream.isTTY === true ? barReporter(stream, now) : lineReporter(stream, now, options.logEvery ?? 50);
}

interface Phase {
  label: string;
  totalSteps: number;
  startedAt: number;
}

function barReporter(stream: ProgressStream, now: () => number): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{label} [{bar}] {percentage}% {value}/{total} | {rate} img/s | loss {loss} | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let phase: Phase | undefined;
  return {
    begin(label, totalSteps) {
      phase = { label, totalSteps, startedAt: now() };
      bar.start(totalSteps, 0, { label, rate: '-', loss: '-' });
    },
    update({ step, images, loss }) {
      if (phase === undefined) return;
      bar.update(step, { rate: formatRate(images, now() - phase.startedAt), loss: formatLoss(loss) });
    },
    end() {
      if (phase === undefined) return;
      bar.stop();
      phase = undefined;
    },
    note(line) {
      stream.write(`${line}\n`);
    },
  };
}

function lineReporter(stream: ProgressStream, now: () => number, logEvery: number): ProgressReporter {
  let phase: Phase | undefined;
  return {
    begin(label, totalSteps) {
      phase = { label, totalSteps, startedAt: now() };
    },
    update({ step, images, loss }) {
      if (phase === undefined || (step % logEvery !== 0 && step !== phase.totalSteps)) return;
      const elapsed = now() - phase.startedAt;
      const percent = Math.floor((100 * step) / phase.totalSteps);
      const eta = step > 0 ? formatDuration(((phase.totalSteps - step) * elapsed) / step) : '-';
      const fields = [`${phase.label} ${step}/${phase.totalSteps} (${percent}%)`];
      if (loss !== undefined) fields.push(`loss ${formatLoss(loss)}`);
      fields.push(`${formatRate(images, elapsed)} img/s`, `eta ${eta}`);
      stream.write(`${fields.join('  ')}\n`);
    },
    end() {
      phase = undefined;
    },
    note(line) {
      stream.write(`${line}\n`);
    },
  };
}

function formatRate(images: number, elapsedMs: number): string {
  return elapsedMs > 0 ? String(Math.round((images * 1000) / elapsedMs)) : '-';
}

function formatLoss(loss: number | undefined): string {
  return loss === undefined ? '-' : loss.toFixed(4);
}

/** Formats a duration in milliseconds as 42s, 3m05s or 2h07m. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
