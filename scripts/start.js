// `npm start`: compiles the TypeScript only when a source changed since the last build, then
// runs the server. A restart after a crash listens at once instead of after a ~10 s compile.
// Plain JavaScript on purpose: it runs before anything is compiled.
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = [path.join(root, 'src'), ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => path.join(root, f))];

/** Adds every file under `file` (a folder: its files, in order) to the hash, by path and content: times change with a copy, and stay with a revert. */
function hashInto(hash, file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(file).sort()) hashInto(hash, path.join(file, name));
    return;
  }
  hash.update(`${path.relative(root, file)}\0${stat.size}\0`);
  hash.update(fs.readFileSync(file));
}

const hash = createHash('sha256');
for (const input of inputs) hashInto(hash, input);
const sources = hash.digest('hex');
const built = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';
if (built !== sources || !fs.existsSync(path.join(root, 'dist', 'server.js'))) {
  console.log(built ? 'compiling: the sources changed since the last build' : 'compiling (first start)');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  fs.writeFileSync(stamp, `${sources}\n`);
}
require(path.join(root, 'dist', 'server.js')).main();
