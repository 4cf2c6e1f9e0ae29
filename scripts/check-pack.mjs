// prepack: a tarball without the compiled TypeScript or a prebuilt addon installs but cannot run
// (or compiles for minutes on the user's machine), so packing stops here instead.
import { existsSync, readdirSync } from 'node:fs';

const missing = [];
if (!existsSync('dist/index.js') || !existsSync('dist/cli.js')) missing.push('dist/ (run `npm run build:ts`)');
const prebuilt = existsSync('prebuilds')
  ? readdirSync('prebuilds', { recursive: true }).filter((name) => String(name).endsWith('.node'))
  : [];
if (prebuilt.length === 0) missing.push('prebuilds/*/*.node (run `npm run build:prebuilds`)');
if (missing.length > 0) {
  console.error(`distillery: not packing, missing ${missing.join(' and ')}`);
  process.exit(1);
}
console.error(`distillery: packing with ${prebuilt.length} prebuilt addon(s): ${prebuilt.join(', ')}`);
