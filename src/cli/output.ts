// How commands talk to the user: JSON on stdout when asked, human text on stderr otherwise.
import type { OutputOptions } from './options.js';

/** Prints the command's result: one JSON object on stdout with --json, else `human` on stderr. */
export function printResult(options: OutputOptions, result: object, human: string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (!options.quiet) process.stderr.write(`${human}\n`);
}

/** Percent with two decimals, for human-readable summaries. */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}
