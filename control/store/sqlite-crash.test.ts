import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import ts from 'typescript';
import { afterAll, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'klab-store-'));

let writer: ChildProcess | undefined;

afterAll(() => {
  if (writer && writer.exitCode === null && writer.signalCode === null) writer.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The store's modules as plain JavaScript, so a separate node process can run (and crash) it. */
function buildStoreForChild(): string {
  const sqlitePath = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  for (const name of ['types', 'keys', 'watch-queue', 'sqlite']) {
    const source = readFileSync(join(here, `${name}.ts`), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ES2022,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    }).outputText;
    writeFileSync(join(dir, `${name}.js`), js.replace(`from 'better-sqlite3'`, `from '${sqlitePath}'`));
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const child = join(dir, 'writer.js');
  writeFileSync(
    child,
    `import { SqliteStore } from './sqlite.js';
const count = Number(process.argv[3] ?? Infinity);
const interval = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const store = new SqliteStore(process.argv[2], { checkpointIntervalMs: interval });
for (let i = 0; i < count; i++) {
  const stored = await store.create('/registry/pods/p' + i, { metadata: { name: 'p' + i } });
  process.stdout.write(i + ' ' + stored.modRevision + '\\n');
}
await store.close();
`,
  );
  return child;
}

it('keeps every acknowledged write when the writing process is killed mid-stream', async () => {
  const script = buildStoreForChild();
  const path = join(dir, 'state.db');
  const acked = new Map<number, number>();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    writer = child;
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [i, rev] = line.split(' ').map(Number);
        acked.set(i as number, rev as number);
      }
      if (acked.size >= 200 && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited on its own: ${stderr}`)),
    );
  });
  const store = new SqliteStore(path);
  try {
    for (const [i, rev] of acked) {
      expect((await store.get(`/registry/pods/p${i}`))?.modRevision).toBe(rev);
    }
    const last = Math.max(...acked.values());
    expect(await store.currentRevision()).toBeGreaterThanOrEqual(last);
    const next = await store.create('/registry/pods/after', { metadata: { name: 'after' } });
    expect(next.modRevision).toBeGreaterThan(last);
  } finally {
    await store.close();
  }
});

it('acknowledges a write only after an fdatasync of the WAL that holds it, syncs the database file after a checkpoint before the WAL is written again, and never syncs on the event loop (seen with strace)', async () => {
  const script = buildStoreForChild();
  const path = join(dir, 'traced.db');
  const trace = join(dir, 'trace.txt');
  const writes = 50;
  await execa('strace', [
    '-f',
    '-y',
    '-qq',
    '-e',
    'trace=pwrite64,fdatasync,fsync,write',
    '-o',
    trace,
    process.execPath,
    script,
    path,
    String(writes),
    // A checkpoint after every commit.
    '0',
  ]);
  // One writer awaiting each create: between a commit's WAL writes and its acknowledgement on
  // stdout there must be a completed sync of the WAL (strace -f splits calls that overlap
  // across threads into "unfinished" and "resumed" lines).
  // The same for the database file: after a checkpoint wrote to it, a completed sync of it must
  // come before the next write to the WAL (which may overwrite the frames it copied).
  const lines = readFileSync(trace, 'utf8').split('\n');
  const ackLines = lines.filter((line) => / write\(1</.test(line));
  const mainThread = ackLines[0]?.split(' ')[0];
  // Opening (the switch to WAL mode) and closing sync on the event loop, once each.
  const running = lines.slice(
    lines.findIndex((line) => /pwrite64\(\d+<[^>]*-wal>/.test(line)),
    lines.lastIndexOf(ackLines[ackLines.length - 1] ?? ''),
  );
  let walDirty = false;
  let dbDirty = false;
  let walWrites = 0;
  let dbSyncs = 0;
  let acks = 0;
  const syncing = new Map<string, 'wal' | 'db'>();
  const synced = (file: 'wal' | 'db') => {
    if (file === 'wal') walDirty = false;
    else {
      dbDirty = false;
      dbSyncs += 1;
    }
  };
  for (const line of running) {
    const pid = line.split(' ')[0] ?? '';
    const file = /-wal>/.test(line) ? 'wal' : /traced\.db>/.test(line) ? 'db' : undefined;
    if (/f(data)?sync\(/.test(line)) expect(pid, `a sync on the event loop: ${line}`).not.toBe(mainThread);
    if (/pwrite64\(/.test(line) && file === 'wal') {
      expect(dbDirty, 'the WAL was written before the checkpointed database file was synced').toBe(false);
      walDirty = true;
      walWrites += 1;
    } else if (/pwrite64\(/.test(line) && file === 'db') {
      dbDirty = true;
    } else if (/f(data)?sync\(/.test(line) && file) {
      if (line.includes('<unfinished ...>')) syncing.set(pid, file);
      else if (/= 0$/.test(line)) synced(file);
    } else if (/<\.\.\. f(data)?sync resumed>.*= 0$/.test(line) && syncing.has(pid)) {
      synced(syncing.get(pid) as 'wal' | 'db');
      syncing.delete(pid);
    } else if (/ write\(1</.test(line)) {
      acks += 1;
      expect(walDirty, `acknowledgement ${acks} written before its commit was synced`).toBe(false);
    }
  }
  expect(acks).toBe(writes - 1);
  expect(walWrites).toBeGreaterThanOrEqual(writes - 1);
  expect(dbSyncs).toBeGreaterThan(0);
});
