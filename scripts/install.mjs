// npm install hook: use a prebuilt addon when it loads here, compile against the local LibTorch otherwise.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function prebuildLoads() {
  // Loading is not enough: the prebuild must also run against the LibTorch it was built for.
  const probe = spawnSync(process.execPath, ['-e', `require('node-gyp-build')(${JSON.stringify(root)}).checkRuntime()`], {
    cwd: root,
    env: { ...process.env, PREBUILDS_ONLY: '1' },
    stdio: 'ignore',
  });
  return probe.status === 0;
}

if (process.env.DISTILLERY_FORCE_BUILD !== '1' && prebuildLoads()) {
  console.log('distillery: using the prebuilt addon in prebuilds/');
  process.exit(0);
}
const build = spawnSync('npx', ['--no-install', 'cmake-js', 'compile'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
