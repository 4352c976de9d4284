/**
 * Bearer-token authentication from `DATA_DIR/tokens.json`, and the authorization rules:
 * system:masters may do everything; a node (`system:node:<name>`) reads everything but Secrets
 * and ConfigMaps, of which it reads only those the pods bound to it name (kube-apiserver's Node
 * authorizer), and writes only its own Node, its Lease, Events and the pods bound to it, and
 * asks for the tokens of those pods; an add-on service account with a role (coredns) gets exactly that role; any other
 * service account reads everything and writes the status its add-on reports (Ingress and
 * Service), Events and the Leases of its own namespace.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referencedBy, type PodLike } from './node-graph.js';
import { ApiError, qualifiedResource } from './status.js';
import type { ResourceInfo } from './resources.js';

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface TokenEntry extends UserInfo {
  readonly token: string;
}

export const ADMIN_USER: UserInfo = {
  name: 'kubernetes-admin',
  groups: ['system:masters', 'system:authenticated'],
};

export const nodeUser = (node: string): UserInfo => ({
  name: `system:node:${node}`,
  groups: ['system:nodes', 'system:authenticated'],
});

export const serviceAccountUser = (namespace: string, name: string): UserInfo => ({
  name: `system:serviceaccount:${namespace}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
});

export const tokensPath = (dataDir: string): string => join(dataDir, 'tokens.json');

function parseTokens(text: string, path: string): TokenEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  const tokens = (doc as { tokens?: unknown }).tokens;
  if (!Array.isArray(tokens)) throw new Error(`${path}: expected {"tokens": [...]}`);
  return tokens.map((t, i) => {
    const e = t as Partial<TokenEntry>;
    if (
      typeof e.token !== 'string' ||
      e.token.length < 16 ||
      typeof e.name !== 'string' ||
      !Array.isArray(e.groups)
    ) {
      throw new Error(`${path}: tokens[${i}] needs "token" (16+ characters), "name" and "groups"`);
    }
    return { token: e.token, name: e.name, groups: e.groups };
  });
}

export async function readTokens(dataDir: string): Promise<TokenEntry[]> {
  const path = tokensPath(dataDir);
  if (!existsSync(path)) return [];
  return parseTokens(await readFile(path, 'utf8'), path);
}

/** Returns the token of `user`, minting and saving one if it has none. */
export async function ensureToken(dataDir: string, user: UserInfo): Promise<string> {
  const tokens = await readTokens(dataDir);
  const found = tokens.find((t) => t.name === user.name);
  if (found) return found.token;
  const token = randomBytes(24).toString('base64url');
  tokens.push({ token, name: user.name, groups: [...user.groups] });
  const path = tokensPath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ tokens }, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
  return token;
}

/**
 * Resolves bearer tokens from the tokens file. The file is checked for changes at most once a
 * second (a stat per request showed up in profiles), and at once when a token is not found, so
 * a node token minted a moment ago works on its first request.
 */
export class TokenAuthenticator {
  private entries: TokenEntry[] = [];
  private mtimeMs = -1;
  private checkedAt = -Infinity;

  constructor(private readonly dataDir: string) {}

  /** Re-reads the file if it changed; true when the entries were replaced. */
  private refresh(): boolean {
    this.checkedAt = Date.now();
    const path = tokensPath(this.dataDir);
    if (!existsSync(path)) return false;
    const mtime = statSync(path).mtimeMs;
    if (mtime === this.mtimeMs) return false;
    this.entries = parseTokens(readFileSync(path, 'utf8'), path);
    this.mtimeMs = mtime;
    return true;
  }

  private find(presented: Buffer): UserInfo | undefined {
    for (const e of this.entries) {
      const known = Buffer.from(e.token);
      if (known.length === presented.length && timingSafeEqual(known, presented)) return e;
    }
    return undefined;
  }

  authenticate(authorization: string | undefined): UserInfo | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const presented = Buffer.from(m[1] as string);
    if (Date.now() - this.checkedAt >= 1000) this.refresh();
    return this.find(presented) ?? (this.refresh() ? this.find(presented) : undefined);
  }
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RequestAttributes {
  readonly verb: Verb;
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/** What the node rules look up in storage. */
export interface NodeGraph {
  /** The node a pod is bound to: `null` when the pod does not exist, undefined when it is unbound. */
  podNode(namespace: string, name: string): Promise<string | null | undefined>;
  /** The pods in `namespace` bound to `node`. */
  podsOnNode(namespace: string, node: string): Promise<readonly PodLike[]>;
}

/** An authorizer's answer; `reason` is appended to the 403 message, as kube-apiserver does. */
export interface Decision {
  readonly allowed: boolean;
  readonly reason?: string;
}

const ALLOW: Decision = { allowed: true };
const DENY: Decision = { allowed: false };
const decide = (allowed: boolean): Decision => (allowed ? ALLOW : DENY);

const READ_VERBS: readonly Verb[] = ['get', 'list', 'watch'];
const WRITE_ONE: readonly Verb[] = ['create', 'update', 'patch', 'delete'];

/**
 * The Node authorizer's rule for Secrets and ConfigMaps: get, or list/watch of one object (by a
 * `metadata.name` field selector, as kubelet's single-object watches ask), of an object a pod
 * bound to the node names. The reasons are kube-apiserver's.
 */
async function nodeReadsObject(
  node: string,
  kind: 'secrets' | 'configmaps',
  a: RequestAttributes,
  graph: NodeGraph,
): Promise<Decision> {
  if (!READ_VERBS.includes(a.verb)) return { allowed: false, reason: 'can only read resources of this type' };
  if (a.subresource !== undefined) return { allowed: false, reason: 'cannot read subresource' };
  if (!a.namespace) return { allowed: false, reason: 'can only read namespaced object of this type' };
  if (!a.name) return { allowed: false, reason: 'No Object name found' };
  if (referencedBy(await graph.podsOnNode(a.namespace, node), kind, a.name)) return ALLOW;
  return { allowed: false, reason: `no relationship found between node '${node}' and this object` };
}

async function nodeAllows(node: string, a: RequestAttributes, graph: NodeGraph): Promise<Decision> {
  const { info } = a;
  if (info.group === '' && (info.plural === 'secrets' || info.plural === 'configmaps')) {
    return nodeReadsObject(node, info.plural, a, graph);
  }
  if (READ_VERBS.includes(a.verb)) return ALLOW;
  if (info.group === '' && info.plural === 'nodes')
    return decide(a.name === node && WRITE_ONE.includes(a.verb));
  if (info.group === 'coordination.k8s.io' && info.plural === 'leases') {
    return decide(a.namespace === 'kube-node-lease' && a.name === node && WRITE_ONE.includes(a.verb));
  }
  if (info.group === '' && info.plural === 'events')
    return decide(['create', 'update', 'patch'].includes(a.verb));
  // Which pod's token, and whether that pod is bound here, is the TokenRequest handler's check.
  if (info.group === '' && info.plural === 'serviceaccounts' && a.subresource === 'token') {
    return decide(a.verb === 'create');
  }
  if (info.group === '' && info.plural === 'pods' && a.namespace && a.name) {
    const statusWrite = a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch');
    const deletion = a.subresource === undefined && a.verb === 'delete';
    if (!statusWrite && !deletion) return DENY;
    const bound = await graph.podNode(a.namespace, a.name);
    // A pod that does not exist is the registry's 404 to give, as with NodeRestriction.
    return decide(bound === null || bound === node);
  }
  return DENY;
}

interface Rule {
  readonly group: string;
  readonly resources: readonly string[];
  readonly verbs: readonly Verb[];
}

/**
 * Add-on service accounts with exactly the ClusterRole their manifests bind. coredns gets
 * kubeadm's `system:coredns`: list and watch of what the kubernetes plugin reads, nothing else.
 */
const ADDON_ROLES: Readonly<Record<string, readonly Rule[]>> = {
  'system:serviceaccount:kube-system:coredns': [
    { group: '', resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
    { group: 'discovery.k8s.io', resources: ['endpointslices'], verbs: ['list', 'watch'] },
  ],
};

const ruleAllows = (rules: readonly Rule[], a: RequestAttributes): boolean =>
  a.subresource === undefined &&
  rules.some(
    (r) => r.group === a.info.group && r.resources.includes(a.info.plural) && r.verbs.includes(a.verb),
  );

function serviceAccountAllows(namespace: string, a: RequestAttributes): boolean {
  const { info } = a;
  if (READ_VERBS.includes(a.verb)) return true;
  if (info.group === '' && info.plural === 'events') return ['create', 'update', 'patch'].includes(a.verb);
  if (info.group === 'coordination.k8s.io' && info.plural === 'leases') {
    return a.namespace === namespace && WRITE_ONE.includes(a.verb);
  }
  const statusOf =
    (info.group === 'networking.k8s.io' && info.plural === 'ingresses') ||
    (info.group === '' && info.plural === 'services');
  return statusOf && a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch');
}

export async function authorize(user: UserInfo, a: RequestAttributes, graph: NodeGraph): Promise<Decision> {
  if (user.groups.includes('system:masters')) return ALLOW;
  const node = /^system:node:(.+)$/.exec(user.name);
  if (node && user.groups.includes('system:nodes')) return nodeAllows(node[1] as string, a, graph);
  const role = ADDON_ROLES[user.name];
  if (role) return decide(ruleAllows(role, a));
  const sa = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user.name);
  if (sa) return decide(serviceAccountAllows(sa[1] as string, a));
  return DENY;
}

/** kube-apiserver's 403 wording, with the authorizer's reason after a colon when it gave one. */
export function forbidden(user: UserInfo, a: RequestAttributes, reason?: string): ApiError {
  const resource = a.subresource ? `${a.info.plural}/${a.subresource}` : a.info.plural;
  const subject = a.name ? `${qualifiedResource(a.info)} "${a.name}"` : qualifiedResource(a.info);
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.info.group}" ${scope}${reason ? `: ${reason}` : ''}`,
    {
      ...(a.name ? { name: a.name } : {}),
      ...(a.info.group ? { group: a.info.group } : {}),
      kind: a.info.plural,
    },
  );
}
