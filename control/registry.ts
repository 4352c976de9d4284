/**
 * The generic registry: Kubernetes object semantics over the Store, shared by the HTTP
 * handlers, the garbage collector and the namespace lifecycle. Creation fills system
 * metadata; updates keep it, bump generation on spec changes and honour resourceVersion
 * preconditions; deletion honours finalizers, propagation policies and graceful pod deletion.
 */
import { type ListResult, type Store, StoreError } from './store/types.js';
import { dryRunWrites, type StoreWrites } from './dry-run.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import {
  ApiError,
  STALE_OBJECT,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  type StatusCause,
} from './status.js';
import {
  SYSTEM_FIELDS,
  clone,
  generateSuffix,
  metaOf,
  newUid,
  specChanged,
  timestamp,
  withFinalizer,
  type KubeObject,
  type ObjectMeta,
} from './objects.js';
import { listPrefix, storageKey } from './routes.js';
import { matches, type Requirement } from '../kube/labels.js';
import { matchesFields, type FieldRequirement } from '../kube/fields.js';

/** What the registry needs from the schema layer (control/schema), injected by the app. */
export interface SchemaHooks {
  defaultObject(info: ResourceInfo, obj: KubeObject): KubeObject;
  validate(info: ResourceInfo, obj: KubeObject, old?: KubeObject): StatusCause[];
  unknownFields(info: ResourceInfo, obj: KubeObject): string[];
  recordManagedFields(input: {
    info: ResourceInfo;
    old: KubeObject | undefined;
    updated: KubeObject;
    manager: string;
    now: Date;
    subresource?: string;
  }): KubeObject;
}

/**
 * A stateful admission step run after validation (e.g. assigning Service ClusterIPs and
 * NodePorts). It reserves what the object needs; the registry commits once the write is stored
 * and rolls back when it is not. Throws ApiError (422) for requests it cannot satisfy.
 */
export interface Admission {
  admit(
    info: ResourceInfo,
    object: KubeObject,
    old: KubeObject | undefined,
  ): { object: KubeObject; commit(): void; rollback(): void };
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  readonly fieldManager: string;
  readonly fieldValidation: FieldValidation;
  readonly subresource?: string;
  /** Server-side apply already computed managedFields. */
  readonly managedFieldsDone?: boolean;
  /** `dryRun=All`: validated, defaulted and admitted, then answered without being stored. */
  readonly dryRun?: boolean;
}

export interface WriteResult {
  readonly object: KubeObject;
  readonly created: boolean;
  readonly warnings: string[];
}

export interface DeleteOptions {
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { uid?: string; resourceVersion?: string };
  /** `dryRun=All`: the answer a deletion would give, with nothing changed. */
  readonly dryRun?: boolean;
}

export interface ListQuery {
  readonly labels: readonly Requirement[];
  readonly fields: readonly FieldRequirement[];
  readonly limit?: number;
  readonly continueToken?: string;
  /**
   * Everything under the list's prefix from the watch cache, when it is fresh enough for this
   * list: read instead of storage for a first page (later pages read storage at its revision).
   */
  readonly cached?: ListResult;
}

export interface ListPage {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
  readonly continueToken?: string;
}

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';
/** Namespaces that kube-apiserver refuses to delete. */
const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** Status subresource kinds whose status the server resets on create (clients cannot set it). */
const RESET_STATUS_ON_CREATE = new Set(['Service', 'Deployment', 'ReplicaSet', 'Ingress']);

interface ContinueToken {
  rv: number;
  start: string;
}

const encodeContinue = (t: ContinueToken): string => Buffer.from(JSON.stringify(t)).toString('base64url');

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through to the error below
  }
  throw badRequest(`invalid continue token "${token}"`);
}

export function mapStoreError(err: unknown, info: ResourceInfo, name: string): unknown {
  if (!(err instanceof StoreError)) return err;
  switch (err.code) {
    case 'NotFound':
      return notFound(info, name);
    case 'AlreadyExists':
      return alreadyExists(info, name);
    case 'Conflict':
      return conflict(info, name, STALE_OBJECT);
    case 'Expired':
      return new ApiError(410, 'Expired', err.message);
    case 'Unavailable':
      return new ApiError(503, 'ServiceUnavailable', `storage unavailable: ${err.message}`);
  }
}

/** How long creates in a namespace deleted here read storage rather than the cache. */
const FORCE_LIVE_LOOKUP_MS = 30_000;

export class Registry {
  private readonly dryRunStore: StoreWrites;
  /**
   * Namespaces whose deletion went through here lately, with when that stops mattering: their
   * creates read storage, since the cache may not show the deletion yet (kube-apiserver's
   * NamespaceLifecycle keeps such a force-live-lookup list for 30 s).
   */
  private readonly namespacesDeleted = new Map<string, number>();

  constructor(
    readonly store: Store,
    private readonly schema: SchemaHooks,
    private readonly now: () => Date,
    private readonly admission?: Admission,
    /** Namespaces as the watch cache holds them (undefined: not there, or the cache is not ready). */
    private readonly cachedNamespace?: (name: string) => KubeObject | undefined,
  ) {
    this.dryRunStore = dryRunWrites(store);
  }

  /** Where a request's writes go: the store, or for a dry run a view that only checks them. */
  private writes(dryRun: boolean | undefined): StoreWrites {
    return dryRun ? this.dryRunStore : this.store;
  }

  /** Runs the stateful admission step, if any, around a store write. */
  private async reserveAndWrite<T>(
    info: ResourceInfo,
    object: KubeObject,
    old: KubeObject | undefined,
    dryRun: boolean | undefined,
    write: (admitted: KubeObject) => Promise<T>,
  ): Promise<T> {
    if (!this.admission) return write(object);
    const reservation = this.admission.admit(info, object, old);
    try {
      const result = await write(reservation.object);
      // A dry run shows what admission would assign (a ClusterIP, say) but keeps none of it.
      if (dryRun) reservation.rollback();
      else reservation.commit();
      return result;
    } catch (err) {
      reservation.rollback();
      throw err;
    }
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const found = await this.store.get(storageKey(info, namespace, name));
    if (!found) throw notFound(info, name);
    return found.value as KubeObject;
  }

  async find(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined> {
    return (await this.store.get(storageKey(info, namespace, name)))?.value as KubeObject | undefined;
  }

  /** Lists with selectors applied before `limit`, paging storage until the page is full. */
  async list(info: ResourceInfo, namespace: string | undefined, q: ListQuery): Promise<ListPage> {
    const prefix = listPrefix(info, namespace);
    const cont = q.continueToken ? decodeContinue(q.continueToken) : undefined;
    let revision = cont?.rv;
    let start = cont?.start;
    const items: KubeObject[] = [];
    const filtering = q.labels.length > 0 || q.fields.length > 0;
    for (;;) {
      const want =
        q.limit === undefined ? undefined : filtering ? Math.max(q.limit, 100) : q.limit - items.length;
      let page: ListResult;
      if (q.cached && !cont) page = q.cached;
      else
        try {
          page = await this.store.list(prefix, {
            ...(want !== undefined ? { limit: want } : {}),
            ...(start !== undefined ? { continueKey: start } : {}),
            ...(revision !== undefined ? { revision } : {}),
          });
        } catch (err) {
          if (err instanceof StoreError && err.code === 'Expired' && cont) {
            throw new ApiError(
              410,
              'Expired',
              'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
            );
          }
          throw mapStoreError(err, info, '');
        }
      revision = page.revision;
      for (const sv of page.items) {
        const obj = sv.value as KubeObject;
        if (filtering && !(matches(q.labels, metaOf(obj).labels) && matchesFields(q.fields, obj))) continue;
        items.push(obj);
        if (q.limit !== undefined && items.length === q.limit) {
          const more = sv !== page.items[page.items.length - 1] || page.continueKey !== undefined;
          return {
            items,
            resourceVersion: String(revision),
            ...(more ? { continueToken: encodeContinue({ rv: revision, start: sv.key }) } : {}),
          };
        }
      }
      if (page.continueKey === undefined) return { items, resourceVersion: String(revision) };
      start = page.continueKey;
    }
  }

  private async checkNamespace(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
  ): Promise<void> {
    if (!info.namespaced) return;
    // An active namespace in the cache saves a storage read per create; anything else (absent,
    // terminating, a cache a moment behind) is decided by storage. kube-apiserver's
    // NamespaceLifecycle admission reads its informer the same way, with a live lookup on a miss.
    const cached = this.cachedNamespace?.(namespace ?? '');
    if (cached && !metaOf(cached).deletionTimestamp && !this.deletedLately(namespace ?? '')) return;
    const ns = (await this.store.get(storageKey(NAMESPACES, undefined, namespace ?? '')))?.value as
      KubeObject | undefined;
    if (!ns) throw notFound(NAMESPACES, namespace ?? '');
    if (metaOf(ns).deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `${info.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { kind: info.plural, causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace' }] },
      );
    }
  }

  private deletedLately(namespace: string): boolean {
    const until = this.namespacesDeleted.get(namespace);
    if (until === undefined) return false;
    if (until > this.now().getTime()) return true;
    this.namespacesDeleted.delete(namespace);
    return false;
  }

  /** Unknown-field handling, defaulting and validation shared by every write. */
  private admit(
    info: ResourceInfo,
    candidate: KubeObject,
    old: KubeObject | undefined,
    opts: WriteOptions,
  ): { object: KubeObject; warnings: string[] } {
    const warnings: string[] = [];
    if (opts.fieldValidation !== 'Ignore') {
      const unknown = this.schema.unknownFields(info, candidate);
      if (unknown.length > 0 && opts.fieldValidation === 'Strict') {
        const list = unknown.map((f) => `unknown field "${f}"`).join(', ');
        throw badRequest(
          `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${list}`,
        );
      }
      for (const f of unknown) warnings.push(`unknown field "${f}"`);
    }
    const object = this.schema.defaultObject(info, candidate);
    const causes = this.schema.validate(info, object, old);
    if (causes.length > 0) throw invalid(info.kind, info.group, metaOf(object).name ?? '', causes);
    return { object, warnings };
  }

  private checkTypeMeta(info: ResourceInfo, body: KubeObject): void {
    const apiVersion = apiVersionOf(info);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
      );
    }
    if (body.kind !== undefined && body.kind !== info.kind) {
      throw badRequest(
        `the kind in the data (${String(body.kind)}) does not match the expected kind (${info.kind})`,
      );
    }
  }

  private checkNamespaceMatch(info: ResourceInfo, namespace: string | undefined, meta: ObjectMeta): void {
    if (!info.namespaced) return;
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
  }

  async create(
    info: ResourceInfo,
    namespace: string | undefined,
    body: KubeObject,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest(`the body of the request must be a ${info.kind} object`);
    }
    this.checkTypeMeta(info, body);
    const meta: ObjectMeta = { ...(body.metadata ?? {}) };
    this.checkNamespaceMatch(info, namespace, meta);
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${generateSuffix()}`;
    if (!meta.name) {
      throw invalid(info.kind, info.group, '', [
        {
          reason: 'FieldValueRequired',
          field: 'metadata.name',
          message: 'Required value: name or generateName is required',
        },
      ]);
    }
    await this.checkNamespace(info, namespace, meta.name);
    const now = this.now();
    for (const f of SYSTEM_FIELDS) delete meta[f];
    delete meta.resourceVersion;
    meta.uid = newUid();
    meta.creationTimestamp = timestamp(now);
    meta.generation = 1;
    if (info.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    let candidate: KubeObject = {
      ...clone(body),
      apiVersion: apiVersionOf(info),
      kind: info.kind,
      metadata: meta,
    };
    candidate = initialStatus(info, candidate);
    const { object, warnings } = this.admit(info, candidate, undefined, opts);
    const name = meta.name;
    return this.reserveAndWrite(info, object, undefined, opts.dryRun, async (admitted) => {
      const stored = opts.managedFieldsDone
        ? admitted
        : this.schema.recordManagedFields({
            info,
            old: undefined,
            updated: admitted,
            manager: opts.fieldManager,
            now,
          });
      try {
        const sv = await this.writes(opts.dryRun).create(storageKey(info, namespace, name), stored);
        return { object: sv.value as KubeObject, created: true, warnings };
      } catch (err) {
        throw mapStoreError(err, info, name);
      }
    });
  }

  /**
   * Read-modify-write. `change` maps the live object (undefined when absent and `allowCreate`)
   * to the desired one; a storage conflict retries when the caller set no resourceVersion.
   */
  async mutate(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    change: (live: KubeObject | undefined) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & { allowCreate?: boolean },
  ): Promise<WriteResult> {
    const key = storageKey(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.get(key);
      if (!current && !opts.allowCreate) throw notFound(info, name);
      const live = current?.value as KubeObject | undefined;
      const desired = await change(live === undefined ? undefined : clone(live));
      if (!live) {
        const meta = metaOf(desired);
        if (meta.name !== undefined && meta.name !== name) {
          throw badRequest(
            `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
          );
        }
        return this.create(info, namespace, { ...desired, metadata: { ...meta, name } }, opts);
      }
      const precondition = metaOf(desired).resourceVersion;
      try {
        return await this.replace(info, namespace, name, live, desired, current!.modRevision, opts);
      } catch (err) {
        const retry =
          err instanceof ApiError && err.code === 409 && err.reason === 'Conflict' && !precondition;
        if (!retry || attempt >= 5 || (err as ApiError).details?.causes) throw err;
      }
    }
  }

  /** PUT semantics: the body replaces the object, with `resourceVersion` as precondition. */
  async update(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest(`the body of the request must be a ${info.kind} object`);
    }
    this.checkTypeMeta(info, body);
    return this.mutate(info, namespace, name, () => body, opts);
  }

  private async replace(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    live: KubeObject,
    desired: KubeObject,
    liveRevision: number,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    const liveMeta = metaOf(live);
    const meta: ObjectMeta = { ...(desired.metadata ?? {}) };
    this.checkNamespaceMatch(info, namespace, meta);
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (
      meta.resourceVersion !== undefined &&
      meta.resourceVersion !== '' &&
      meta.resourceVersion !== liveMeta.resourceVersion
    ) {
      throw conflict(info, name, STALE_OBJECT);
    }
    if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== liveMeta.uid) {
      throw conflict(
        info,
        name,
        `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${liveMeta.uid}`,
      );
    }
    for (const f of SYSTEM_FIELDS) {
      if (liveMeta[f] === undefined) delete meta[f];
      else (meta as Record<string, unknown>)[f] = liveMeta[f];
    }
    meta.name = name;
    if (info.namespaced) meta.namespace = namespace;
    meta.generation = liveMeta.generation ?? 1;
    delete meta.resourceVersion;
    let candidate: KubeObject = {
      ...desired,
      apiVersion: apiVersionOf(info),
      kind: info.kind,
      metadata: meta,
    };
    candidate = scopeToSubresource(info, live, candidate, opts.subresource);
    if (liveMeta.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(liveMeta.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalid(info.kind, info.group, name, [
          {
            reason: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          },
        ]);
      }
    }
    const admitted = this.admit(info, candidate, live, opts);
    const warnings = admitted.warnings;
    return this.reserveAndWrite(info, admitted.object, live, opts.dryRun, async (object) => {
      if (specChanged(live, object)) metaOf(object).generation = (liveMeta.generation ?? 1) + 1;
      const now = this.now();
      const stored = opts.managedFieldsDone
        ? object
        : this.schema.recordManagedFields({
            info,
            old: live,
            updated: object,
            manager: opts.fieldManager,
            now,
            ...(opts.subresource ? { subresource: opts.subresource } : {}),
          });
      const key = storageKey(info, namespace, name);
      if (noChange(live, stored)) return { object: live, created: false, warnings };
      const writes = this.writes(opts.dryRun);
      try {
        if (
          metaOf(stored).deletionTimestamp &&
          (metaOf(stored).finalizers ?? []).length === 0 &&
          !deletionBlocked(stored)
        ) {
          const sv = await writes.delete(key, liveRevision);
          return { object: sv.value as KubeObject, created: false, warnings };
        }
        const sv = await writes.update(key, stored, liveRevision);
        return { object: sv.value as KubeObject, created: false, warnings };
      } catch (err) {
        throw mapStoreError(err, info, name);
      }
    });
  }

  /**
   * DELETE. Returns the object and whether it is gone; an object with finalizers (or a pod
   * bound to a node with a grace period) only gets its deletionTimestamp.
   */
  async delete(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
  ): Promise<{ object: KubeObject; gone: boolean }> {
    const key = storageKey(info, namespace, name);
    const writes = this.writes(options.dryRun);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.get(key);
      if (!current) throw notFound(info, name);
      const live = current.value as KubeObject;
      const meta = metaOf(live);
      const pre = options.preconditions ?? {};
      if (pre.uid && pre.uid !== meta.uid) {
        throw conflict(
          info,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      if (pre.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(
          info,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
        );
      }
      if (info.group === '' && info.plural === 'namespaces' && PROTECTED_NAMESPACES.includes(name)) {
        throw new ApiError(
          403,
          'Forbidden',
          `namespaces "${name}" is forbidden: this namespace may not be deleted`,
          {
            name,
            kind: 'namespaces',
          },
        );
      }
      if (info.group === '' && info.plural === 'namespaces' && !options.dryRun) {
        this.namespacesDeleted.set(name, this.now().getTime() + FORCE_LIVE_LOOKUP_MS);
      }
      try {
        const next = this.deletionState(info, live, options);
        if (next === undefined) {
          const sv = await writes.delete(key, current.modRevision);
          return { object: sv.value as KubeObject, gone: true };
        }
        if (noChange(live, next)) return { object: live, gone: false };
        const sv = await writes.update(key, next, current.modRevision);
        return { object: sv.value as KubeObject, gone: false };
      } catch (err) {
        if (err instanceof StoreError && err.code === 'Conflict' && attempt < 5) continue;
        throw mapStoreError(err, info, name);
      }
    }
  }

  /** The object as it should be stored while its deletion is pending, or undefined to remove it. */
  private deletionState(
    info: ResourceInfo,
    live: KubeObject,
    options: DeleteOptions,
  ): KubeObject | undefined {
    const meta = metaOf(live);
    const now = this.now();
    let next = live;
    if (info.group === '' && info.plural === 'namespaces') {
      return {
        ...live,
        metadata: {
          ...meta,
          deletionTimestamp: meta.deletionTimestamp ?? timestamp(now),
          deletionGracePeriodSeconds: 0,
        },
        status: { ...((live.status as object | undefined) ?? {}), phase: 'Terminating' },
      };
    }
    if (!meta.deletionTimestamp) {
      if (options.propagationPolicy === 'Foreground') next = withFinalizer(next, FOREGROUND);
      if (options.propagationPolicy === 'Orphan') next = withFinalizer(next, ORPHAN);
    }
    const nodeName = (live.spec as { nodeName?: string } | undefined)?.nodeName;
    if (info.group === '' && info.plural === 'pods' && nodeName) {
      const spec = live.spec as { terminationGracePeriodSeconds?: number };
      const grace = options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
      const pending = meta.deletionGracePeriodSeconds;
      if (grace > 0 && (pending === undefined || grace < pending)) {
        const deadline = new Date(now.getTime() + grace * 1000);
        return {
          ...next,
          metadata: {
            ...metaOf(next),
            deletionTimestamp: timestamp(deadline),
            deletionGracePeriodSeconds: grace,
          },
        };
      }
      if (grace > 0) return next;
    }
    if ((metaOf(next).finalizers ?? []).length > 0) {
      return {
        ...next,
        metadata: {
          ...metaOf(next),
          deletionTimestamp: meta.deletionTimestamp ?? timestamp(now),
          deletionGracePeriodSeconds: 0,
        },
      };
    }
    return undefined;
  }

  /** Removes the namespace finalizer of a drained namespace; true once the namespace is gone. */
  async finalizeNamespace(info: ResourceInfo, name: string): Promise<boolean> {
    const key = storageKey(info, undefined, name);
    const current = await this.store.get(key);
    if (!current) return true;
    const live = current.value as KubeObject;
    const spec = { ...((live.spec as { finalizers?: string[] } | undefined) ?? {}) };
    spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    try {
      if ((metaOf(live).finalizers ?? []).length === 0) {
        await this.store.delete(key, current.modRevision);
        return true;
      }
      await this.store.update(key, { ...live, spec }, current.modRevision);
      return false;
    } catch (err) {
      throw mapStoreError(err, info, name);
    }
  }
}

export const NAMESPACE_FINALIZER = 'kubernetes';

/** Whether a deleted object may leave storage now that no metadata finalizers remain. */
function deletionBlocked(obj: KubeObject): boolean {
  if (obj.kind === 'Pod') return (metaOf(obj).deletionGracePeriodSeconds ?? 0) > 0;
  if (obj.kind === 'Namespace')
    return ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
  return false;
}

const NAMESPACES = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: [],
  categories: [],
  subresources: ['status'],
} as const satisfies ResourceInfo;

/** True when a write would store nothing new (managedFields timestamps aside), so it is skipped. */
function noChange(live: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject): unknown => {
    const meta = { ...metaOf(o) };
    delete meta.resourceVersion;
    if (Array.isArray(meta.managedFields)) {
      meta.managedFields = meta.managedFields.map((m) => ({ ...(m as object), time: undefined }));
    }
    return { ...o, metadata: meta };
  };
  return JSON.stringify(sortKeys(strip(live))) === JSON.stringify(sortKeys(strip(next)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

function initialStatus(info: ResourceInfo, obj: KubeObject): KubeObject {
  if (info.group === '' && info.kind === 'Namespace') {
    return { ...obj, spec: { finalizers: [NAMESPACE_FINALIZER] }, status: { phase: 'Active' } };
  }
  if (info.group === '' && info.kind === 'Pod') {
    return { ...obj, status: { phase: 'Pending', ...(obj.status as object | undefined) } };
  }
  if (RESET_STATUS_ON_CREATE.has(info.kind)) {
    const rest = { ...obj };
    delete rest.status;
    return info.kind === 'Service' ? { ...rest, status: { loadBalancer: {} } } : rest;
  }
  return obj;
}

/**
 * Where a resource has a status subresource, a write to the main resource cannot change
 * status and a write to `/status` changes only status (and metadata), as kube-apiserver does.
 */
function scopeToSubresource(
  info: ResourceInfo,
  live: KubeObject,
  candidate: KubeObject,
  subresource: string | undefined,
): KubeObject {
  if (!info.subresources.includes('status')) return candidate;
  if (subresource === 'status') {
    const out: KubeObject = { ...live, metadata: candidate.metadata };
    if (candidate.status === undefined) delete out.status;
    else out.status = candidate.status;
    return out;
  }
  if (subresource === 'scale' || subresource === 'binding') return candidate;
  const out: KubeObject = { ...candidate };
  if (live.status === undefined) delete out.status;
  else out.status = live.status;
  return out;
}
