import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { describeError, LabError } from './errors.js';
import { clusterUp, podNetns } from './cluster.js';
import { labDown, labUp } from './lifecycle.js';
import { DEFAULT_LAB_NAME, validateLabName } from './names.js';
import { netnsProvider } from './netns/provider.js';
import { DEFAULT_NODES, LAN_CIDR } from './plan.js';
import { requireHost, requireState } from './processes.js';
import { nodeRules } from './rules.js';
import type { Faults, LabProvider } from './provider.js';
import { listStateLabs, labDir, logFile, readHostEnv, type LabState } from './state.js';
import { gatherStatus, renderStatus } from './status.js';

const provider: LabProvider = netnsProvider;

/** Runs a command action, turning errors into one clear message and exit code 1. */
function run<A extends unknown[]>(name: string, action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (error) {
      console.error(`klab lab ${name}: ${describeError(error)}`);
      process.exitCode = error instanceof LabError && error.code === 'INTERRUPTED' ? 130 : 1;
    }
  };
}

function faultsFromEnv(env: NodeJS.ProcessEnv): Faults {
  const read = (key: string): number | undefined => {
    const value = env[key];
    if (value === undefined || value === '') return undefined;
    if (!/^[1-9]\d*$/.test(value))
      throw new LabError('BAD_USAGE', `${key} must be a positive integer, got "${value}"`);
    return Number(value);
  };
  return {
    failAfterNodes: read('KLAB_LAB_FAIL_AFTER_NODES'),
    hangAfterNodes: read('KLAB_LAB_HANG_AFTER_NODES'),
  };
}

function parseNodes(value: string): number {
  if (!/^\d+$/.test(value))
    throw new LabError('BAD_NODE_COUNT', `--nodes must be a whole number, got "${value}"`);
  return Number(value);
}

const ms = (n: number) => `${Math.round(n)} ms`.padStart(7);

async function up(opts: {
  name: string;
  nodes: string;
  hostAccess?: boolean;
  cluster?: boolean;
}): Promise<void> {
  const nodes = parseNodes(opts.nodes);
  const faults = faultsFromEnv(process.env);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      console.log(`${sig}: still cleaning up, please wait`);
      return;
    }
    console.log(`${sig}: stopping and cleaning up`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  console.log(
    `lab "${opts.name}": ${nodes} node${nodes === 1 ? '' : 's'} + ext on ${LAN_CIDR} (${provider.name} provider)`,
  );
  try {
    const state = await labUp(
      { name: opts.name, nodes, hostAccess: opts.hostAccess === true },
      {
        provider,
        signal: controller.signal,
        faults,
        log: (line) => console.log(`  ${line}`),
        onStep: (r) => console.log(`  ✓ ${r.step.padEnd(32)}${ms(r.ms)}${r.detail ? `  ${r.detail}` : ''}`),
      },
    ).catch((error: unknown) => {
      // Ctrl-C in a terminal also kills the `ip` children, so the step reports a kill, not an abort.
      if (controller.signal.aborted) {
        throw new LabError(
          'INTERRUPTED',
          `lab "${opts.name}": up was interrupted (the clean-up is reported above)`,
        );
      }
      throw error;
    });
    if (opts.cluster) {
      await clusterUp(provider, state, (line) => console.log(`  ${line}`)).catch(async (error: unknown) => {
        console.log(`  cluster bring-up failed; taking lab "${state.lab}" down`);
        await labDown(state.lab, { provider, log: (line) => console.log(`  ${line}`) });
        throw error;
      });
    }
    console.log(`lab "${state.lab}" is up in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    for (const h of state.hosts) console.log(`  ${h.name.padEnd(8)} ${h.ip.padEnd(15)} ${h.netns}`);
    if (state.hostAccess)
      console.log(`  host     ${state.hostAccess.ip.padEnd(15)} ${state.hostAccess.ifname} (host access)`);
    const flag = state.lab === DEFAULT_LAB_NAME ? '' : ` --name ${state.lab}`;
    if (opts.cluster) {
      console.log(`next: klab lab kubectl${flag} -- get nodes -o wide`);
      console.log(`      klab lab kubectl${flag} -- apply -f examples/echo.yaml`);
      console.log(`      klab lab exec${flag} node-1 -- iptables-save -t nat   the rules kube-proxy wrote`);
      console.log(`      klab lab shell${flag}                  ext, the lab's laptop, with KUBECONFIG set`);
    } else console.log(`next: klab lab shell${flag}                  a shell on ext, the lab's laptop`);
    console.log(`      klab lab exec${flag} node-1 -- ip -br addr`);
    console.log(`      klab lab down${flag}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function down(opts: { name: string }): Promise<void> {
  const existed = await labDown(opts.name, { provider, log: (line) => console.log(`  ${line}`) });
  console.log(existed ? `lab "${opts.name}" is down` : `lab "${opts.name}" does not exist; nothing to do`);
}

async function status(opts: { name: string; json?: boolean }): Promise<void> {
  validateLabName(opts.name);
  const state = await requireState(opts.name).catch(async (error: unknown) => {
    if (await provider.exists(opts.name)) {
      throw new LabError(
        'BAD_STATE',
        `lab "${opts.name}" has namespaces but no state (an up that crashed?)`,
        `remove it with: klab lab down --name ${opts.name}`,
      );
    }
    throw error;
  });
  const result = await gatherStatus(provider, state);
  console.log(opts.json ? JSON.stringify(result, null, 2) : renderStatus(result));
  if (!result.healthy) process.exitCode = 1;
}

async function list(): Promise<void> {
  const fromState = await listStateLabs();
  const fromKernel = await provider.listLabs();
  const labs = [...new Set([...fromState, ...fromKernel])].sort();
  if (labs.length === 0) {
    console.log('no labs (start one with: klab lab up)');
    return;
  }
  for (const lab of labs) {
    const known = fromState.includes(lab);
    const note = !known ? 'no state: leftovers of a crashed up, remove with klab lab down' : '';
    const state = known ? await requireState(lab).catch(() => undefined) : undefined;
    const what = state ? `${state.nodes} nodes, ${state.phase}, ${state.processes.length} processes` : note;
    console.log(`${lab.padEnd(14)} ${what}`);
  }
}

/** Exit code of a child the way a shell reports it (128 + signal number when killed). */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

/** Runs argv in the foreground, stdio passed through; resolves with its exit code. */
function foreground(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? 'false', args, { stdio: 'inherit', env });
    // The terminal delivers Ctrl-C to the child too; klab just waits for it and reports its code.
    const ignore = () => undefined;
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    const done = () => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code, sig) => {
      done();
      resolve(exitCodeOf(code, sig));
    });
  });
}

async function hostContext(lab: string, host: string): Promise<{ state: LabState; env: NodeJS.ProcessEnv }> {
  validateLabName(lab);
  const state = await requireState(lab);
  requireHost(state, host);
  return { state, env: { ...process.env, ...(await readHostEnv(lab, host)) } };
}

async function exec(host: string, words: string[], opts: { name: string }): Promise<void> {
  // passThroughOptions keeps the `--` that separates klab's options from the command's.
  const command = words[0] === '--' ? words.slice(1) : words;
  if (command.length === 0) {
    throw new LabError('BAD_USAGE', 'no command given', `usage: klab lab exec ${host} -- <command> [args…]`);
  }
  if (host.startsWith('pod/')) {
    const { state, env } = await hostContext(opts.name, 'ext');
    const netns = await podNetns(provider, state, host);
    process.exitCode = await foreground(['ip', 'netns', 'exec', netns, ...command], env);
    return;
  }
  const { state, env } = await hostContext(opts.name, host);
  process.exitCode = await foreground(provider.hostCommand(state, host, command), env);
}

async function kubectl(words: string[], opts: { name: string }): Promise<void> {
  const args = words[0] === '--' ? words.slice(1) : words;
  const { state, env } = await hostContext(opts.name, 'ext');
  process.exitCode = await foreground(provider.hostCommand(state, 'ext', ['kubectl', ...args]), env);
}

async function rules(node: string, opts: { name: string; service?: string }): Promise<void> {
  validateLabName(opts.name);
  const state = await requireState(opts.name);
  process.stdout.write(await nodeRules(provider, state, node, opts.service));
}

async function shell(host: string, opts: { name: string }): Promise<void> {
  const { state, env } = await hostContext(opts.name, host);
  const record = state.hosts.find((h) => h.name === host);
  const prompt = `[${state.lab}:${host}] \\w\\$ `;
  const shellPath = process.env.SHELL || 'bash';
  let argv = [shellPath];
  if (basename(shellPath) === 'bash') {
    // bash would replace PS1 from ~/.bashrc; an rc file that sources it first keeps our prompt.
    const rc = join(labDir(state.lab), 'env', 'bashrc');
    await mkdir(join(labDir(state.lab), 'env'), { recursive: true });
    await writeFile(rc, `[ -f ~/.bashrc ] && . ~/.bashrc\nPS1='${prompt}'\n`);
    argv = [shellPath, '--rcfile', rc, '-i'];
  }
  console.log(`lab "${state.lab}", host ${host} (${record?.ip ?? '?'}); type exit to leave`);
  process.exitCode = await foreground(provider.hostCommand(state, host, argv), { ...env, PS1: prompt });
}

async function logs(host: string, component: string | undefined, opts: { name: string; follow?: boolean }) {
  const { state } = await hostContext(opts.name, host);
  let chosen = component;
  if (chosen === undefined) {
    const dir = join(labDir(state.lab), 'logs', host);
    const names = existsSync(dir) ? (await readdir(dir)).map((f) => f.replace(/\.log$/, '')) : [];
    if (names.length !== 1) {
      throw new LabError(
        'NO_LOG',
        names.length === 0 ? `no logs on ${host}` : `${host} has several components: ${names.join(', ')}`,
        names.length === 0 ? 'nothing runs there yet' : `pick one: klab lab logs ${host} <component>`,
      );
    }
    chosen = names[0];
  }
  const path = logFile(state.lab, host, chosen ?? '');
  if (!existsSync(path)) throw new LabError('NO_LOG', `no log for ${chosen} on ${host} (${path})`);
  if (opts.follow) {
    process.exitCode = await foreground(['tail', '-n', '+1', '-F', path], process.env);
    return;
  }
  process.stdout.write(await readFile(path));
}

export function registerLabCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description('network-namespace labs: a LAN, node-1…node-N and ext (the lab laptop)')
    .enablePositionalOptions();
  const nameOption = ['-n, --name <lab>', 'lab name', DEFAULT_LAB_NAME] as const;

  lab
    .command('up')
    .description('create a lab: LAN bridge, nodes on 192.168.56.11+, ext on 192.168.56.2')
    .option(...nameOption)
    .option('--nodes <count>', 'number of nodes', String(DEFAULT_NODES))
    .option('--host-access', 'give the host 192.168.56.1 on the LAN (like a host-only adapter)')
    .option('--no-cluster', 'network only: no control plane, agents or kube-proxy')
    .action(run('up', up));
  lab
    .command('down')
    .description('remove everything the lab created (idempotent; also after a crashed up)')
    .option(...nameOption)
    .action(run('down', down));
  lab
    .command('status')
    .description("hosts, addresses and the lab's processes with their health")
    .option(...nameOption)
    .option('--json', 'machine-readable output')
    .action(run('status', status));
  lab.command('list').description('labs present on this machine').action(run('list', list));
  lab
    .command('exec')
    .description('run a command on a host (node-N, ext); stdin/stdout and exit code pass through')
    .option(...nameOption)
    .argument('<host>', "node-N, ext, or pod/<namespace>/<name> (the pod's network namespace)")
    .argument('[command...]', 'the command, after --')
    .passThroughOptions()
    .action(run('exec', exec));
  lab
    .command('kubectl')
    .description('run kubectl on ext against the lab cluster')
    .option(...nameOption)
    .argument('[args...]', 'kubectl arguments, after --')
    .passThroughOptions()
    .action(run('kubectl', kubectl));
  lab
    .command('rules')
    .description("a node's live kube-proxy rules, grouped by service, each chain labelled")
    .option(...nameOption)
    .option('--service <namespace/name>', 'only the rules of this Service')
    .argument('<node>', 'node-N')
    .action(run('rules', rules));
  lab
    .command('shell')
    .description('an interactive shell on a host')
    .option(...nameOption)
    .argument('[host]', 'node-N or ext', 'ext')
    .action(run('shell', shell));
  lab
    .command('logs')
    .description("a process's log on a host")
    .option(...nameOption)
    .option('-f, --follow', 'keep printing new lines')
    .argument('<host>', 'node-N or ext')
    .argument('[component]', 'the component; optional when the host runs one')
    .action(run('logs', logs));
}
