/**
 * The resource verbs over HTTP: get, list, watch, create, update, patch, delete and
 * deletecollection on resources and their status and scale subresources, with authorization,
 * Table output, field validation and Warning headers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseAccept, wantsTable } from '../accept.js';
import { authorize, forbidden, type NodeGraph, type UserInfo, type Verb } from '../auth.js';
import type { Extensions, IncludeObject } from '../extensions.js';
import { metaOf, timestamp, type KubeObject } from '../objects.js';
import type { FieldValidation, Registry, WriteOptions, WriteResult } from '../registry.js';
import { apiVersionOf, findResource, type ResourceInfo } from '../resources.js';
import { listPrefix, type ResourcePath } from '../routes.js';
import { ApiError, badRequest, conflict, invalid, methodNotAllowed, successStatus } from '../status.js';
import { awaitRevision, serveWatch } from '../watch.js';
import type { ListResult, WatchCache } from '../store/index.js';
import {
  SelectorError,
  formatSelector,
  fromLabelSelector,
  parseSelector,
  type Requirement,
} from '../../kube/labels.js';
import { checkFields, parseFieldSelector, type FieldRequirement } from '../../kube/fields.js';
import { decodeDeleteOptions, decodeObject, decodePatch, patchKind } from './body.js';
import { createToken } from './token.js';

export interface WatchSettings {
  readonly bookmarkIntervalMs: number;
  readonly maxBufferedBytes: number;
  /** Watches without timeoutSeconds end after a random time in [min, 2*min), as kube's do. */
  readonly minRequestTimeoutSeconds: number;
}

export interface ResourceContext {
  readonly registry: Registry;
  readonly ext: Extensions;
  readonly now: () => Date;
  readonly watch: WatchSettings;
  readonly watchCache: (info: ResourceInfo) => WatchCache;
  /** Signs service-account tokens (TokenRequest); without it that subresource answers 500. */
  readonly serviceAccountKey?: Buffer;
}

type Query = Record<string, string | undefined>;

const truthy = (v: string | undefined): boolean => v === 'true' || v === '1';

function selectors(
  info: ResourceInfo,
  path: ResourcePath,
  q: Query,
): { labels: Requirement[]; fields: FieldRequirement[] } {
  try {
    const labels = parseSelector(q.labelSelector ?? '');
    const fields = parseFieldSelector(q.fieldSelector ?? '');
    checkFields(info.kind, fields);
    if (path.name !== undefined)
      fields.push({ field: 'metadata.name', operator: 'Equals', value: path.name });
    return { labels, fields };
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}

function verbOf(method: string, path: ResourcePath, q: Query): Verb {
  const named = path.name !== undefined;
  switch (method) {
    case 'GET':
      if (path.watchPrefix || truthy(q.watch)) return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      if (named && path.subresource !== 'binding' && path.subresource !== 'token')
        throw methodNotAllowed(method);
      return 'create';
    case 'PUT':
      if (!named) throw methodNotAllowed(method);
      return 'update';
    case 'PATCH':
      if (!named) throw methodNotAllowed(method);
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      throw methodNotAllowed(method);
  }
}

function fieldValidation(q: Query): FieldValidation {
  const v = q.fieldValidation ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got "${v}"`);
  }
  return v;
}

/** kube's default manager: the User-Agent up to the first '/'. */
function fieldManager(req: FastifyRequest, q: Query): string {
  if (q.fieldManager !== undefined) {
    if (q.fieldManager.length === 0 || q.fieldManager.length > 128) {
      throw badRequest('fieldManager must be between 1 and 128 characters');
    }
    return q.fieldManager;
  }
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0]!.slice(0, 128) || 'unknown';
}

/** `dryRun=All` (kube's only value; repeated parameters arrive as one here) or nothing. */
function dryRun(q: Query): boolean {
  if (q.dryRun === undefined || q.dryRun === '') return false;
  if (q.dryRun !== 'All')
    throw badRequest(`dryRun: Unsupported value: "${q.dryRun}": supported values: "All"`);
  return true;
}

function includeObject(q: Query): IncludeObject {
  const v = q.includeObject ?? 'Metadata';
  if (v !== 'None' && v !== 'Metadata' && v !== 'Object') {
    throw badRequest(`includeObject must be one of "None", "Metadata" or "Object", got "${v}"`);
  }
  return v;
}

function warn(reply: FastifyReply, warnings: readonly string[]): void {
  if (warnings.length === 0) return;
  reply.header(
    'Warning',
    warnings.map((w) => `299 - ${JSON.stringify(w)}`),
  );
}

export function scaleOf(info: ResourceInfo, obj: KubeObject): KubeObject {
  const meta = metaOf(obj);
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: Parameters<typeof fromLabelSelector>[0] };
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      selector: spec.selector ? formatSelector(fromLabelSelector(spec.selector)) : '',
    },
  };
}

function replicasFromScale(info: ResourceInfo, scale: KubeObject): number {
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(
      422,
      'Invalid',
      `Scale.autoscaling "${String(metaOf(scale).name)}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      {
        name: metaOf(scale).name ?? '',
        group: 'autoscaling',
        kind: 'Scale',
        causes: [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.replicas',
            message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          },
        ],
      },
    );
  }
  return replicas;
}

/**
 * A first list page from the watch cache where kube-apiserver serves it from its cache too:
 * `resourceVersion=0` (any state), and a consistent list (no resourceVersion) once the cache
 * has every change up to the store's current revision. Otherwise (an exact resourceVersion, a
 * cache behind the store) storage answers. Saves parsing every object of the list again.
 */
async function cachedList(
  ctx: ResourceContext,
  info: ResourceInfo,
  prefix: string,
  q: Query,
): Promise<ListResult | undefined> {
  const any = q.resourceVersion === '0';
  if (!any && q.resourceVersion !== undefined && q.resourceVersion !== '') return undefined;
  const current = any ? 0 : await ctx.registry.store.currentRevision();
  // Checked after the await: the cache may have begun a restart meanwhile.
  const cache = ctx.watchCache(info);
  return cache.isReady && cache.revision >= current ? cache.list(prefix) : undefined;
}

/**
 * pods/binding, as the scheduler uses it: sets spec.nodeName once and marks the pod
 * scheduled; a pod already bound is a 409.
 */
async function bindPod(ctx: ResourceContext, path: ResourcePath, binding: KubeObject, opts: WriteOptions) {
  const target = (binding as { target?: { kind?: string; name?: string } }).target;
  const podName = path.name!;
  if (!target?.name || (target.kind !== undefined && target.kind !== 'Node')) {
    throw invalid('Binding', '', podName, [
      { reason: 'FieldValueRequired', field: 'target.name', message: 'Required value: a Node to bind to' },
    ]);
  }
  const stamp = timestamp(ctx.now());
  await ctx.registry.mutate(
    path.info,
    path.namespace,
    podName,
    (live) => {
      const spec = (live!.spec ?? {}) as { nodeName?: string };
      if (spec.nodeName) {
        throw conflict(path.info, podName, `pod ${podName} is already assigned to node "${spec.nodeName}"`);
      }
      const status = (live!.status ?? {}) as { conditions?: { type: string }[] };
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      return {
        ...live!,
        spec: { ...spec, nodeName: target.name },
        status: {
          ...status,
          conditions: [
            { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: stamp },
            ...conditions,
          ],
        },
      };
    },
    opts,
  );
}

/**
 * The object a list or watch asks for by an exact `metadata.name` field selector: kube-apiserver's
 * RequestInfo names it, so authorizers treat such a request as reading that one object.
 */
function selectedName(q: Query): string | undefined {
  let fields: FieldRequirement[];
  try {
    fields = parseFieldSelector(q.fieldSelector ?? '');
  } catch {
    return undefined;
  }
  const name = fields.find((f) => f.field === 'metadata.name' && f.operator === 'Equals')?.value;
  return name && name !== '.' && name !== '..' && !/[/%]/.test(name) ? name : undefined;
}

const PODS = findResource('', 'v1', 'pods') as ResourceInfo;

/** The storage look-ups the node authorizer needs; the pods list prefers the watch cache. */
function nodeGraph(ctx: ResourceContext): NodeGraph {
  return {
    podNode: async (namespace, podName) => {
      const pod = await ctx.registry.find(PODS, namespace, podName);
      return pod === undefined ? null : (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    },
    podsOnNode: async (namespace, node) => {
      const cached = await cachedList(ctx, PODS, listPrefix(PODS, namespace), {});
      const page = await ctx.registry.list(PODS, namespace, {
        labels: [],
        fields: [{ field: 'spec.nodeName', operator: 'Equals', value: node }],
        ...(cached ? { cached } : {}),
      });
      return page.items;
    },
  };
}

export async function handleResource(
  ctx: ResourceContext,
  user: UserInfo,
  path: ResourcePath,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const q = req.query as Query;
  const { info } = path;
  const verb = verbOf(req.method, path, q);
  const dry = dryRun(q);
  const raw = req.body as Buffer | undefined;
  let body: KubeObject | undefined;
  if (verb === 'create' || verb === 'update')
    body = decodeObject(raw, req.headers['content-type']) as KubeObject;
  const name =
    path.name ??
    (verb === 'create'
      ? metaOf(body!).name
      : verb === 'list' || verb === 'watch'
        ? selectedName(q)
        : undefined);
  const attrs = {
    verb,
    info,
    ...(path.namespace !== undefined ? { namespace: path.namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(path.subresource !== undefined ? { subresource: path.subresource } : {}),
  };
  const decision = await authorize(user, attrs, nodeGraph(ctx));
  if (!decision.allowed) throw forbidden(user, attrs, decision.reason);
  if (info.namespaced && path.namespace === undefined && !['list', 'watch'].includes(verb)) {
    throw badRequest(`${info.plural} is namespaced: ${verb} needs a namespace in the path`);
  }
  const accept = parseAccept(req.headers.accept);
  const table = wantsTable(accept) && path.subresource === undefined;
  const now = ctx.now();
  const render = (obj: KubeObject): unknown =>
    table ? ctx.ext.toTable(info, [obj], includeObject(q), now) : obj;
  const writeOpts = (): WriteOptions => ({
    fieldManager: fieldManager(req, q),
    fieldValidation: fieldValidation(q),
    ...(path.subresource ? { subresource: path.subresource } : {}),
    ...(dry ? { dryRun: true } : {}),
  });
  const respondWrite = (result: WriteResult, createdCode = 201): unknown => {
    warn(reply, result.warnings);
    reply.code(result.created ? createdCode : 200);
    return path.subresource === 'scale' ? scaleOf(info, result.object) : result.object;
  };

  switch (verb) {
    case 'get': {
      const obj = await ctx.registry.get(info, path.namespace, path.name!);
      if (path.subresource === 'scale') return scaleOf(info, obj);
      return render(obj);
    }
    case 'list': {
      const { labels, fields } = selectors(info, { ...path, name: undefined } as ResourcePath, q);
      const limit = q.limit === undefined || q.limit === '' ? undefined : Number(q.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
        throw badRequest(`limit must be a non-negative integer, got "${q.limit}"`);
      }
      const cached = q.continue
        ? undefined
        : await cachedList(ctx, info, listPrefix(info, path.namespace), q);
      const page = await ctx.registry.list(info, path.namespace, {
        labels,
        fields,
        ...(limit ? { limit } : {}),
        ...(q.continue ? { continueToken: q.continue } : {}),
        ...(cached ? { cached } : {}),
      });
      const metadata = {
        resourceVersion: page.resourceVersion,
        ...(page.continueToken ? { continue: page.continueToken } : {}),
      };
      if (table) {
        const t = ctx.ext.toTable(info, page.items, includeObject(q), now);
        return { ...t, metadata };
      }
      return { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata, items: page.items };
    }
    case 'watch': {
      const { labels, fields } = selectors(info, path, q);
      const timeoutSeconds = q.timeoutSeconds ? Number(q.timeoutSeconds) : undefined;
      if (timeoutSeconds !== undefined && (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0)) {
        throw badRequest(`timeoutSeconds must be a non-negative number, got "${q.timeoutSeconds}"`);
      }
      const min = ctx.watch.minRequestTimeoutSeconds;
      const timeoutMs = (timeoutSeconds ?? min * (1 + Math.random())) * 1000;
      const inc = table ? includeObject(q) : 'Object';
      const cache = ctx.watchCache(info);
      await awaitRevision(cache, q.resourceVersion);
      reply.hijack();
      serveWatch(cache, ctx.registry.store, reply.raw, {
        info,
        prefix: listPrefix(info, path.namespace),
        labels,
        fields,
        ...(q.resourceVersion !== undefined ? { resourceVersion: q.resourceVersion } : {}),
        allowBookmarks: truthy(q.allowWatchBookmarks),
        timeoutMs,
        bookmarkIntervalMs: ctx.watch.bookmarkIntervalMs,
        maxBufferedBytes: ctx.watch.maxBufferedBytes,
        ...(table
          ? {
              encode: (obj: KubeObject, first: boolean) => {
                const t = ctx.ext.toTable(info, [obj], inc, ctx.now()) as KubeObject & {
                  columnDefinitions?: unknown;
                };
                return first ? t : { ...t, columnDefinitions: [] };
              },
            }
          : {}),
      });
      return reply;
    }
    case 'create': {
      if (path.subresource === 'binding') {
        await bindPod(ctx, path, body!, writeOpts());
        reply.code(201);
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
      }
      if (path.subresource === 'token') {
        reply.code(201);
        return createToken(ctx.registry, ctx.serviceAccountKey, user, path, body!, now);
      }
      const result = await ctx.registry.create(info, path.namespace, body!, writeOpts());
      return respondWrite(result);
    }
    case 'update': {
      if (path.subresource === 'scale') {
        const replicas = replicasFromScale(info, body!);
        const rv = metaOf(body!).resourceVersion;
        const result = await ctx.registry.mutate(
          info,
          path.namespace,
          path.name!,
          (live) => ({
            ...live!,
            metadata: { ...metaOf(live!), ...(rv ? { resourceVersion: rv } : {}) },
            spec: { ...(live!.spec as object), replicas },
          }),
          writeOpts(),
        );
        return respondWrite(result);
      }
      return respondWrite(await ctx.registry.update(info, path.namespace, path.name!, body!, writeOpts()));
    }
    case 'patch':
      return respondWrite(await patchResource(ctx, path, req, q, writeOpts()));
    case 'delete': {
      const options = { ...decodeDeleteOptions(raw, q), ...(dry ? { dryRun: true } : {}) };
      const { object, gone } = await ctx.registry.delete(info, path.namespace, path.name!, options);
      reply.code(200);
      if (!gone) return object;
      return info.plural === 'pods' || info.plural === 'namespaces'
        ? object
        : successStatus(info, path.name!, metaOf(object).uid);
    }
    case 'deletecollection': {
      if (info.namespaced && path.namespace === undefined) {
        throw badRequest('deletecollection needs a namespace in the path');
      }
      const options = { ...decodeDeleteOptions(raw, q), ...(dry ? { dryRun: true } : {}) };
      const { labels, fields } = selectors(info, path, q);
      const page = await ctx.registry.list(info, path.namespace, { labels, fields });
      const deleted: KubeObject[] = [];
      for (const obj of page.items) {
        try {
          deleted.push((await ctx.registry.delete(info, path.namespace, metaOf(obj).name!, options)).object);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
      return { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata: {}, items: deleted };
    }
  }
}

async function patchResource(
  ctx: ResourceContext,
  path: ResourcePath,
  req: FastifyRequest,
  q: Query,
  opts: WriteOptions,
): Promise<WriteResult> {
  const { info } = path;
  const kind = patchKind(req.headers['content-type']);
  const patch = decodePatch(req.body as Buffer | undefined, kind);
  const name = path.name!;
  if (kind === 'apply') {
    if (q.fieldManager === undefined) {
      throw badRequest('PATCH (application/apply-patch+yaml) requires the fieldManager query parameter');
    }
    const force = truthy(q.force);
    const applied = patch as KubeObject;
    if (path.subresource === undefined) {
      const meta = metaOf(applied);
      if (meta.name !== undefined && meta.name !== name) {
        throw badRequest(
          `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
        );
      }
    }
    return ctx.registry.mutate(
      info,
      path.namespace,
      name,
      (live) => {
        const target = path.subresource === 'scale' && live ? scaleOf(info, live) : live;
        const result = ctx.ext.apply({
          info,
          live: target,
          applied,
          manager: opts.fieldManager,
          force,
          now: ctx.now(),
          ...(path.subresource ? { subresource: path.subresource } : {}),
        });
        if (path.subresource === 'scale' && live) {
          return { ...live, spec: { ...(live.spec as object), replicas: replicasFromScale(info, result) } };
        }
        return { ...result, metadata: { ...metaOf(result), ...(live ? {} : { name }) } };
      },
      {
        ...opts,
        managedFieldsDone: path.subresource !== 'scale',
        allowCreate: path.subresource === undefined,
      },
    );
  }
  return ctx.registry.mutate(
    info,
    path.namespace,
    name,
    (live) => {
      if (path.subresource === 'scale') {
        const patched = ctx.ext.patch(kind, info, scaleOf(info, live!), patch);
        const rv = metaOf(patched).resourceVersion;
        const changedRv = rv !== metaOf(live!).resourceVersion ? { resourceVersion: rv } : {};
        return {
          ...live!,
          metadata: { ...metaOf(live!), ...changedRv },
          spec: { ...(live!.spec as object), replicas: replicasFromScale(info, patched) },
        };
      }
      const patched = ctx.ext.patch(kind, info, live!, patch);
      // A patch that leaves resourceVersion alone is unconditional: it applies to whatever is live.
      const meta = metaOf(patched);
      if (meta.resourceVersion === metaOf(live!).resourceVersion) {
        return { ...patched, metadata: { ...meta, resourceVersion: undefined } };
      }
      return patched;
    },
    opts,
  );
}
