// The package's own version, read from the package.json it ships with (dist/ and src/ sit beside it).
import { readFileSync } from 'node:fs';

/** distillery's version, as its package.json states it. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
