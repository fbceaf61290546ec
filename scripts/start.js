// `npm start`: compiles the TypeScript only when a source changed since the last build, then
// runs the server. A restart after a crash listens at once instead of after a ~10 s compile.
// Plain JavaScript on purpose: it runs before anything is compiled.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = [path.join(root, 'src'), ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => path.join(root, f))];

/** The newest modification time under `file` (a folder: its files, recursively). */
function newest(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(file).reduce((max, name) => Math.max(max, newest(path.join(file, name))), stat.mtimeMs);
}

const built = fs.statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changed = Math.max(...inputs.map(newest));
if (changed > built || !fs.existsSync(path.join(root, 'dist', 'server.js'))) {
  console.log(built ? 'compiling: the sources changed since the last build' : 'compiling (first start)');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
require(path.join(root, 'dist', 'server.js')).main();
