/**
 * Times `klab lab up` + `klab lab down` for 3 and 10 nodes: through the CLI (what a user waits for,
 * Node start-up included) and through the library (the lab work alone). Median of several runs.
 * Run as root after `npm run build`: node dist/bench/lab-up.js [runs]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { labDown, labUp } from '../lab/lifecycle.js';
import { netnsProvider } from '../lab/netns/provider.js';

const run = promisify(execFile);
const KLAB_JS = fileURLToPath(new URL('../klab.js', import.meta.url));
const runs = Number(process.argv[2] ?? '5');
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`runs must be a positive integer, got "${process.argv[2]}"`);

const labName = () => `b${randomBytes(3).toString('hex')}`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function cliRound(nodes: number): Promise<[number, number]> {
  const name = labName();
  try {
    const up = await timeMs(() =>
      run(process.execPath, [KLAB_JS, 'lab', 'up', '--name', name, '--nodes', String(nodes), '--no-cluster']),
    );
    const down = await timeMs(() => run(process.execPath, [KLAB_JS, 'lab', 'down', '--name', name]));
    return [up, down];
  } finally {
    await labDown(name, { provider: netnsProvider, log: () => undefined });
  }
}

async function libraryRound(nodes: number): Promise<[number, number]> {
  const name = labName();
  const quiet = { provider: netnsProvider, log: () => undefined };
  try {
    const up = await timeMs(() =>
      labUp({ name, nodes }, { ...quiet, signal: new AbortController().signal, onStep: () => undefined }),
    );
    const down = await timeMs(() => labDown(name, quiet));
    return [up, down];
  } finally {
    await labDown(name, quiet);
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'klab-bench-'));
process.env.KLAB_STATE_DIR = stateDir;
const rows: string[][] = [];
try {
  for (const nodes of [3, 10]) {
    for (const [how, round] of [
      ['cli', cliRound],
      ['library', libraryRound],
    ] as const) {
      const ups: number[] = [];
      const downs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const [up, down] = await round(nodes);
        ups.push(up);
        downs.push(down);
      }
      const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      rows.push([
        String(nodes),
        how,
        fmt(median(ups)),
        fmt(median(downs)),
        fmt(median(ups.map((u, i) => u + (downs[i] ?? 0)))),
        `${fmt(Math.min(...ups))}–${fmt(Math.max(...ups))}`,
      ]);
    }
  }
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}

const header = ['nodes', 'via', 'up (median)', 'down (median)', 'up+down', 'up range'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
console.log(`lab up + down, ${runs} runs each (load average ${loadavg()[0]?.toFixed(1)})`);
console.log(line(header));
for (const row of rows) console.log(line(row));
