import { readFileSync } from 'node:fs';
import { CniCode, CniError } from './errors.js';
import { closeNetlink } from './nlexec.js';
import { invoke, type Reply } from './plugin.js';
import { LATEST_VERSION } from './version.js';

/** The klab-bridge executable; kept to the plugin's own modules so it starts quickly. */
async function main(): Promise<Reply> {
  let stdin: string;
  try {
    stdin = readFileSync(0, 'utf8');
  } catch (err) {
    const e = new CniError(CniCode.IoFailure, `reading stdin: ${(err as Error).message}`);
    return { stdout: JSON.stringify(e.toWire(LATEST_VERSION)), exitCode: 1 };
  }
  return invoke(process.env, stdin);
}

const reply = await main();
await closeNetlink();
if (reply.stdout !== '') process.stdout.write(reply.stdout + '\n');
process.exitCode = reply.exitCode;
