import { klab } from './klab-cli.js';
import { randomLabName } from './lab-name.js';
import { onLabHost, type Ran } from './netns.js';

/** A lab a test brought up through the CLI; always call down() in afterAll/finally. */
export interface TestLab {
  readonly name: string;
  /** Runs argv on a host (`node-N`, `ext`) of this lab; never throws. */
  exec(host: string, argv: readonly string[], timeoutMs?: number): Promise<Ran>;
  down(): Promise<void>;
}

/** `klab lab up` with a random `t…` name; throws with the CLI's output when up fails. */
export async function upTestLab(options: { nodes?: number } = {}): Promise<TestLab> {
  const name = randomLabName();
  const down = async () => {
    const result = await klab(['lab', 'down', '--name', name]);
    if (result.exitCode !== 0)
      throw new Error(`lab down ${name} failed:\n${result.stdout}\n${result.stderr}`);
  };
  const up = await klab(['lab', 'up', '--name', name, '--nodes', String(options.nodes ?? 3), '--no-cluster']);
  if (up.exitCode !== 0) {
    await down();
    throw new Error(`lab up ${name} failed:\n${up.stdout}\n${up.stderr}`);
  }
  return { name, exec: (host, argv, timeoutMs) => onLabHost(name, host, argv, timeoutMs), down };
}

/** The real kubectl, run from a cluster lab's `ext` through `klab lab kubectl`. */
export function labKubectl(lab: string) {
  const kubectl = (args: readonly string[], input?: string) =>
    klab(['lab', 'kubectl', '--name', lab, '--', ...args], { input, timeoutMs: 60_000 });
  return {
    kubectl,
    /** `kubectl ARGS -o json`, parsed; throws with kubectl's stderr on failure. */
    async json<T>(args: readonly string[]): Promise<T> {
      const r = await kubectl([...args, '-o', 'json']);
      if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    /** `kubectl apply -f -` of a YAML stream; throws with kubectl's stderr on failure. */
    async apply(yaml: string): Promise<void> {
      const r = await kubectl(['apply', '-f', '-'], yaml);
      if (r.exitCode !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
    },
  };
}
