import { spawn } from 'node:child_process';
import { isServiceChainName } from './names.js';
import { CANARY_TABLES, JUMP_RULES, jumpRuleArgs, PROXY_CANARY } from './jumps.js';
import type { JumpRule } from './jumps.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The one effect seam: run a program with arguments and optional stdin. */
export type Exec = (file: string, args: string[], input?: string) => Promise<ExecResult>;

/** Runs programs directly on this host (in the caller's network namespace). */
export const hostExec: Exec = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });

/** Runs programs inside a named network namespace (`ip netns exec`). */
export function netnsExec(ns: string, base: Exec = hostExec): Exec {
  return (file, args, input) => base('ip', ['netns', 'exec', ns, file, ...args], input);
}

export type Backend = 'nft' | 'legacy';

export class IptablesError extends Error {
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    super(`${command} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

const KUBELET_MARKERS = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'];

/**
 * Picks the iptables backend the system already uses, as the iptables-wrapper in the kube-proxy
 * image does: the backend that holds kubelet's hint/canary chain, else the one with more rules
 * (nft on a tie), so kube-proxy never writes into the tables nobody else reads.
 */
export async function detectBackend(exec: Exec): Promise<Backend> {
  const nft = await exec('iptables-nft-save', []);
  const legacy = await exec('iptables-legacy-save', []);
  const marked = (text: string) => KUBELET_MARKERS.some((m) => text.includes(`:${m} `));
  if (nft.code === 0 && marked(nft.stdout)) return 'nft';
  if (legacy.code === 0 && marked(legacy.stdout)) return 'legacy';
  const rules = (r: ExecResult) =>
    r.code === 0 ? r.stdout.split('\n').filter((l) => l.startsWith('-')).length : 0;
  return rules(legacy) > rules(nft) ? 'legacy' : 'nft';
}

/** Chain names in `iptables-save` output of one table. */
export function chainsInSave(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) out.push(line.slice(1, line.indexOf(' ')));
  }
  return out;
}

/** The thin edge to the kernel's iptables: every call is one command through `exec`. */
export class IptablesApplier {
  constructor(
    private readonly exec: Exec,
    readonly backend: Backend,
  ) {}

  private bin(tool: 'iptables' | 'iptables-save' | 'iptables-restore'): string {
    return tool.replace('iptables', `iptables-${this.backend}`);
  }

  private async iptables(args: string[]): Promise<ExecResult> {
    return this.exec(this.bin('iptables'), ['-w', '5', ...args]);
  }

  private async ensureChain(table: string, chain: string): Promise<void> {
    const r = await this.iptables(['-t', table, '-N', chain]);
    if (r.code !== 0 && !/exists/i.test(r.stderr))
      throw new IptablesError(`iptables -t ${table} -N ${chain}`, r);
  }

  async chainExists(table: string, chain: string): Promise<boolean> {
    return (await this.iptables(['-t', table, '-S', chain, '1'])).code === 0;
  }

  /** Creates KUBE-PROXY-CANARY in mangle, nat and filter. */
  async ensureCanaries(): Promise<void> {
    for (const table of CANARY_TABLES) await this.ensureChain(table, PROXY_CANARY);
  }

  /** False when any canary chain is gone: the tables were flushed behind our back. */
  async canariesPresent(): Promise<boolean> {
    for (const table of CANARY_TABLES) if (!(await this.chainExists(table, PROXY_CANARY))) return false;
    return true;
  }

  async ruleExists(table: string, chain: string, args: string[]): Promise<boolean> {
    return (await this.iptables(['-t', table, '-C', chain, ...args])).code === 0;
  }

  /** `iptables -C` then `-I` for each jump rule, creating the target chains first. */
  async ensureJumpRules(rules: readonly JumpRule[] = JUMP_RULES): Promise<void> {
    for (const rule of rules) {
      await this.ensureChain(rule.table, rule.to);
      const args = jumpRuleArgs(rule);
      const check = await this.iptables(['-t', rule.table, '-C', rule.from, ...args]);
      if (check.code === 0) continue;
      const insert = await this.iptables(['-t', rule.table, '-I', rule.from, ...args]);
      if (insert.code !== 0) throw new IptablesError(`iptables -t ${rule.table} -I ${rule.from}`, insert);
    }
  }

  /** Chains of the nat table now, for stale-chain deletion. */
  async natChains(): Promise<string[]> {
    const r = await this.exec(this.bin('iptables-save'), ['-t', 'nat']);
    if (r.code !== 0) throw new IptablesError('iptables-save -t nat', r);
    return chainsInSave(r.stdout);
  }

  /** Our per-service chains present in the nat table. */
  async serviceChains(): Promise<string[]> {
    return (await this.natChains()).filter(isServiceChainName);
  }

  /** One `iptables-restore --noflush` transaction: all of it applies, or none. */
  async restore(text: string): Promise<void> {
    const r = await this.exec(
      this.bin('iptables-restore'),
      ['-w', '5', '-W', '100000', '--noflush', '--counters'],
      text,
    );
    if (r.code !== 0) throw new IptablesError('iptables-restore --noflush', r);
  }

  /** `iptables-save` of one table, for inspection and tests. */
  async save(table: string): Promise<string> {
    const r = await this.exec(this.bin('iptables-save'), ['-t', table]);
    if (r.code !== 0) throw new IptablesError(`iptables-save -t ${table}`, r);
    return r.stdout;
  }
}
