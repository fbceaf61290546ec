import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/paths';

describe('npm run --silent cli -- nlu --catalog FILE', () => {
  it('writes exactly one JSON line per input line, in order, and nothing else, with no database', () => {
    const input = ['{"text": "bch7al amlou?"}', '{"text": "Do you deliver to Rabat?"}', 'not json', '{"text": "السلام عليكم"}'].join('\n');
    const run = spawnSync('npm', ['run', '--silent', 'cli', '--', 'nlu', '--catalog', path.join(projectRoot, 'flows', 'catalog.yml')], {
      cwd: projectRoot,
      input,
      encoding: 'utf8',
      env: { ...process.env, MONGODB_URI: 'mongodb://127.0.0.1:1/unreachable' },
    });
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { intent: 'price', product: 'amlou', lang: 'ary' },
      { intent: 'delivery', product: null, lang: 'en' },
      { intent: 'unknown', product: null, lang: 'fr' },
      { intent: 'greeting', product: null, lang: 'ar' },
    ]);
    expect(run.stderr).toContain('stdin line 3: expected {"text": "…"}');
  });

  it('explains its use without --catalog', () => {
    const run = spawnSync('npm', ['run', '--silent', 'cli', '--', 'nlu'], { cwd: projectRoot, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/usage: npm run --silent cli -- nlu --catalog FILE/);
  });
});
