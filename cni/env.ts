import { CniCode, CniError } from './errors.js';

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface CniEnv {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  args: Map<string, string>;
  path: string[];
}

const COMMANDS: readonly Command[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Which variables each verb needs (libcni's skel requires the same set). */
const REQUIRED: Record<Command, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
  STATUS: [],
  GC: [],
};

function invalidEnv(msg: string): CniError {
  return new CniError(CniCode.InvalidEnvironment, msg);
}

export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalidEnv(`invalid CNI_ARGS: "${pair}" is not KEY=VALUE`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

export function validateIfname(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 15) return 'is longer than 15 characters';
  if (name === '.' || name === '..') return `"${name}" is not a valid name`;
  if (/[/:\s]/.test(name)) return 'contains "/", ":" or whitespace';
  return undefined;
}

/** Reads the CNI_* variables; every problem is reported together, naming the variables. */
export function parseEnv(env: NodeJS.ProcessEnv): CniEnv {
  const raw = env.CNI_COMMAND ?? '';
  if (raw === '') throw invalidEnv('required env variables [CNI_COMMAND] missing');
  if (!(COMMANDS as readonly string[]).includes(raw)) {
    throw invalidEnv(`unknown CNI_COMMAND: ${raw} (expected one of ${COMMANDS.join(', ')})`);
  }
  const command = raw as Command;
  const missing = REQUIRED[command].filter((k) => !env[k]);
  if (missing.length > 0) throw invalidEnv(`required env variables [${missing.join(',')}] missing`);
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId !== '' && !CONTAINER_ID.test(containerId)) {
    throw invalidEnv(`invalid CNI_CONTAINERID "${containerId}": must match ${CONTAINER_ID.source}`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  const ifProblem = ifname === '' ? undefined : validateIfname(ifname);
  if (ifProblem) throw invalidEnv(`invalid CNI_IFNAME "${ifname}": ${ifProblem}`);
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: parseCniArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
  };
}
