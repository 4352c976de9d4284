import { klab } from './klab-cli.js';
import { run } from './netns.js';

/** `klab lab up --name NAME ARGS`; a failed up is taken down again and throws with the CLI's output. */
export async function labUp(name: string, args: readonly string[] = []): Promise<void> {
  const up = await klab(['lab', 'up', '--name', name, ...args], { timeoutMs: 240_000 });
  if (up.exitCode !== 0) {
    await klab(['lab', 'down', '--name', name], { timeoutMs: 90_000 });
    throw new Error(`lab up ${name} failed:\n${up.stdout}\n${up.stderr}`);
  }
}

/** `klab lab down`, then checks that no network namespace of the lab is left; throws naming what failed. */
export async function labDown(name: string): Promise<void> {
  const down = await klab(['lab', 'down', '--name', name], { timeoutMs: 90_000 });
  if (down.exitCode !== 0) throw new Error(`lab down ${name} failed:\n${down.stdout}\n${down.stderr}`);
  const left = (await run(['ip', 'netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`klab-${name}-`));
  if (left.length > 0) throw new Error(`lab down ${name} left namespaces: ${left.join(', ')}`);
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
