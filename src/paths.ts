import fs from 'node:fs';
import path from 'node:path';

/** Finds the folder holding package.json, so paths work from src/ (tsx) and dist/ (built) alike. */
function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}; run Taawun from its checkout`);
    dir = parent;
  }
}

/** The checkout's root folder. */
export const projectRoot = findProjectRoot(__dirname);
