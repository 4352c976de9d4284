import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/client.js';
import type { PodDnsSpec } from './resolv.js';
import { expandArgv } from './env.js';

export interface ContainerPort {
  containerPort?: number;
  protocol?: string;
  name?: string;
}

export interface Probe {
  httpGet?: { path?: string; port?: number | string; scheme?: string };
  tcpSocket?: { port?: number | string };
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

export interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
  };
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}

export interface PodSpec {
  nodeName?: string;
  containers?: ContainerSpec[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
  dnsPolicy?: string;
  dnsConfig?: PodDnsSpec['dnsConfig'];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
}

export type Pod = KubeObject & {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    creationTimestamp?: string;
  };
  spec: PodSpec;
  status?: Record<string, unknown>;
};

/** The sandbox namespace of a pod: short (interface-name-like) and stable across agent restarts. */
export function sandboxName(prefix: string, uid: string): string {
  return `${prefix}pod-${createHash('sha256').update(uid).digest('hex').slice(0, 10)}`;
}

export interface LaunchContext {
  readonly klabArgv: readonly string[];
  /** How to start the klab/echo image: node and its own small entry (images/echo-main). */
  readonly echoArgv: readonly string[];
  readonly nodeName: string;
  readonly hostIP: string;
  readonly podIP: string;
  /** The pod's service-account folder (token, ca.crt, namespace, kubeconfig), when it has one. */
  readonly serviceAccountDir?: string;
  /** The container's resolved environment (env.ts); it overrides the built-in variables. */
  readonly env?: Record<string, string>;
}

export type Launch =
  | { readonly kind: 'run'; readonly argv: string[]; readonly env: Record<string, string> }
  | { readonly kind: 'error'; readonly reason: string; readonly message: string };

export const BUILTIN_IMAGES = ['klab/echo', 'klab/dns', 'host'] as const;

/** `klab/echo`, `klab/echo:tag` and registry-qualified spellings all name the built-in image. */
function imageName(image: string): string {
  const withoutTag = image.replace(/(@sha256:[0-9a-f]+|:[\w.-]+)$/, '');
  return withoutTag.replace(/^(docker\.io\/|ghcr\.io\/)/, '');
}

/** How a container runs here, or why it cannot: the image decides, as a runtime's pull would. */
export function containerLaunch(pod: Pod, container: ContainerSpec, ctx: LaunchContext): Launch {
  const env: Record<string, string> = {
    POD_NAME: pod.metadata.name,
    POD_NAMESPACE: pod.metadata.namespace,
    POD_IP: ctx.podIP,
    NODE_NAME: ctx.nodeName,
    HOST_IP: ctx.hostIP,
    HOSTNAME: pod.metadata.name,
  };
  Object.assign(env, ctx.env);
  const image = container.image ?? '';
  switch (imageName(image)) {
    case 'klab/echo': {
      const port = container.ports?.find((p) => (p.protocol ?? 'TCP') === 'TCP')?.containerPort ?? 8080;
      const argv = [...ctx.echoArgv, '--port', String(port), ...expandArgv(container.args ?? [], env)];
      return { kind: 'run', argv, env };
    }
    case 'klab/dns': {
      // Ports and probes as kubeadm's CoreDNS: 53 UDP+TCP, /health 8080, /ready 8181, /metrics 9153.
      if (ctx.serviceAccountDir === undefined) {
        return {
          kind: 'error',
          reason: 'CreateContainerConfigError',
          message: `container "${container.name}": image "klab/dns" watches the API and needs a service account (spec.serviceAccountName)`,
        };
      }
      const kubeconfig = `${ctx.serviceAccountDir}/kubeconfig`;
      const argv = [
        ...ctx.klabArgv,
        'dns',
        'serve',
        '--kubeconfig',
        kubeconfig,
        ...expandArgv(container.args ?? [], env),
      ];
      return { kind: 'run', argv, env };
    }
    case 'host': {
      const argv = expandArgv([...(container.command ?? []), ...(container.args ?? [])], env);
      if (argv.length === 0) {
        return {
          kind: 'error',
          reason: 'CreateContainerConfigError',
          message: `container "${container.name}": image "host" needs a command`,
        };
      }
      return { kind: 'run', argv, env };
    }
    default:
      return {
        kind: 'error',
        reason: 'ErrImageNotKnown',
        message: `image "${image}" is not a klab built-in image (known: ${BUILTIN_IMAGES.join(', ')})`,
      };
  }
}

/**
 * Kubelet's crash back-off before restart number `restartCount`: the first restart is at once,
 * then 10 s doubling per restart, capped at five minutes.
 */
export function restartDelayMs(restartCount: number): number {
  if (restartCount <= 1) return 0;
  return Math.min(10_000 * 2 ** (restartCount - 2), 300_000);
}

/**
 * The wait after a failed sandbox set-up, given the wait before it (none after a success), as
 * kubelet's pod worker backs off: 2 s, doubling, capped at five minutes.
 */
export function sandboxRetryDelayMs(previousMs: number | undefined): number {
  return Math.min((previousMs ?? 1_000) * 2, 300_000);
}

/** Whether a container that exited with `exitCode` is started again under `policy`. */
export function shouldRestart(policy: PodSpec['restartPolicy'], exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

/**
 * Whether kubelet makes a new sandbox for a pod whose sandbox changed (computePodActions), given
 * its containers once stopped: with restartPolicy Never only if none has run yet; otherwise if
 * any would start again, which under OnFailure excludes those that succeeded.
 */
export function wantsNewSandbox(
  policy: PodSpec['restartPolicy'],
  containers: readonly { pid?: number; lastExit?: { exitCode: number } }[],
): boolean {
  if (policy === 'Never') return containers.every((c) => c.pid === undefined && c.lastExit === undefined);
  const succeeded = (c: (typeof containers)[number]) => c.pid === undefined && c.lastExit?.exitCode === 0;
  return containers.some((c) => !(policy === 'OnFailure' && succeeded(c)));
}
