import { createHash } from 'node:crypto';
import { RESOURCES, type ResourceInfo } from '../resources.js';
import { META, type DefNode } from './dsl.js';
import { DEFINITIONS } from './defs/index.js';
import { definitionNameFor } from './kinds.js';

/**
 * OpenAPI v3 publication: one document per group-version, the way kube-apiserver serves
 * `/openapi/v3/<path>`, generated from the same definitions that validate requests.
 */

type Json = Record<string, unknown>;
type Gvk = { group: string; version: string; kind: string };

const SCHEMA_PREFIX = '#/components/schemas/';
const RESPONSE_TYPES = ['application/json', 'application/yaml'];
const PATCH_TYPES_BUILTIN = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];
// Custom resources (MetalLB's kinds are CRDs upstream) take no strategic merge patch; kubectl then
// sends JSON merge patches, as it does against a real cluster.
const PATCH_TYPES_CUSTOM = PATCH_TYPES_BUILTIN.filter((t) => t !== 'application/strategic-merge-patch+json');
const BUILTIN_GROUPS = new Set(['', 'apps', 'discovery.k8s.io', 'networking.k8s.io', 'coordination.k8s.io']);

/** A definition as published: `$ref`s point into components and sit in `allOf`, as upstream writes them. */
function publish(node: DefNode): Json {
  const { $ref, properties, items, additionalProperties, ...rest } = node;
  const out: Json = { ...rest };
  // Upstream publishes these two as oneOf in v3, which is also how `kubectl explain` comes to
  // print `<IntOrString>` and `<Quantity>` rather than `<string>`.
  if (node.format === 'int-or-string') {
    delete out.type;
    out.oneOf = [{ type: 'integer' }, { type: 'string' }];
  } else if (node.format === 'quantity') {
    delete out.type;
    delete out.format;
    out.oneOf = [{ type: 'string' }, { type: 'number' }];
  }
  if (properties)
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, publish(v)]));
  if (items) out.items = publish(items);
  if (additionalProperties !== undefined) {
    out.additionalProperties =
      typeof additionalProperties === 'boolean' ? additionalProperties : publish(additionalProperties);
  }
  if ($ref) {
    out.allOf = [{ $ref: SCHEMA_PREFIX + $ref }];
    if (DEFINITIONS[$ref]?.type === 'object' && out.default === undefined) out.default = {};
  }
  return out;
}

function collectRefs(name: string, seen: Set<string>): void {
  if (seen.has(name)) return;
  const def = DEFINITIONS[name];
  if (!def) throw new Error(`schema reference to unknown definition ${name}`);
  seen.add(name);
  const visit = (node: DefNode): void => {
    if (node.$ref) collectRefs(node.$ref, seen);
    Object.values(node.properties ?? {}).forEach(visit);
    if (node.items) visit(node.items);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties);
  };
  visit(def);
}

const ref = (name: string): Json => ({ $ref: SCHEMA_PREFIX + name });
const content = (name: string, types = RESPONSE_TYPES): Json =>
  Object.fromEntries(types.map((t) => [t, { schema: ref(name) }]));
const query = (name: string, description: string, type = 'string'): Json => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});
const pathParam = (name: string, description: string): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', uniqueItems: true },
});

const P = {
  pretty: query('pretty', 'Pretty-print the output.'),
  dryRun: query('dryRun', 'When All, validate and default but persist nothing.'),
  fieldManager: query('fieldManager', 'Name of the actor making the change, recorded in managedFields.'),
  fieldValidation: query(
    'fieldValidation',
    'What to do with unknown or duplicate fields: Ignore, Warn (the default) or Strict.',
  ),
  force: query('force', 'Take over conflicting fields in an apply request.', 'boolean'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'Seconds before the object is removed.', 'integer'),
  propagationPolicy: query('propagationPolicy', 'Orphan, Background or Foreground deletion of dependents.'),
  list: [
    query('allowWatchBookmarks', 'Ask for BOOKMARK events in a watch.', 'boolean'),
    query('continue', 'Token of the next page, from a previous list.'),
    query('fieldSelector', 'Restrict the list by fields, such as metadata.name=x.'),
    query('labelSelector', 'Restrict the list by labels.'),
    query('limit', 'Maximum number of items to return.', 'integer'),
    query('resourceVersion', 'Version to list or watch from.'),
    query('resourceVersionMatch', 'How resourceVersion applies: Exact or NotOlderThan.'),
    query('sendInitialEvents', 'Start a watch with the current objects.', 'boolean'),
    query('timeoutSeconds', 'End a list or watch after this many seconds.', 'integer'),
    query('watch', 'Stream changes instead of listing.', 'boolean'),
  ],
};

const opId = (verb: string, info: ResourceInfo, namespaced: boolean, suffix = ''): string => {
  const group = info.group === '' ? 'Core' : info.group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase());
  const version = info.version.replace(/^./, (c) => c.toUpperCase());
  return `${verb}${group}${version}${namespaced ? 'Namespaced' : ''}${info.kind}${suffix}`;
};

function operation(
  action: string,
  gvk: Gvk,
  description: string,
  operationId: string,
  tag: string,
  opts: { params?: Json[]; body?: Json; ok: string; created?: boolean; accepted?: boolean },
): Json {
  const responses: Json = { '200': { description: 'OK', content: content(opts.ok) } };
  if (opts.created) responses['201'] = { description: 'Created', content: content(opts.ok) };
  if (opts.accepted) responses['202'] = { description: 'Accepted', content: content(opts.ok) };
  responses['401'] = { description: 'Unauthorized' };
  return {
    tags: [tag],
    description,
    operationId,
    parameters: opts.params ?? [],
    ...(opts.body ? { requestBody: opts.body } : {}),
    responses,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  };
}

function resourcePaths(info: ResourceInfo, prefix: string, tag: string): Json {
  const name = definitionNameFor(info);
  const gvk: Gvk = { group: info.group, version: info.version, kind: info.kind };
  const patchTypes = BUILTIN_GROUPS.has(info.group) ? PATCH_TYPES_BUILTIN : PATCH_TYPES_CUSTOM;
  const ns = info.namespaced;
  const base = ns ? `${prefix}/namespaces/{namespace}/${info.plural}` : `${prefix}/${info.plural}`;
  const nsParam = ns ? [pathParam('namespace', 'Namespace of the objects.')] : [];
  const nameParam = pathParam('name', `Name of the ${info.kind}.`);
  const body = (n: string): Json => ({ required: true, content: content(n, ['*/*']) });
  const patchBody: Json = {
    required: true,
    content: Object.fromEntries(patchTypes.map((t) => [t, { schema: ref(`${META}Patch`) }])),
  };
  const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
  const paths: Json = {};

  paths[base] = {
    parameters: [...nsParam, P.pretty],
    get: operation('list', gvk, `List or watch ${info.kind} objects.`, opId('list', info, ns), tag, {
      params: P.list,
      ok: `${name}List`,
    }),
    post: operation('post', gvk, `Create a ${info.kind}.`, opId('create', info, ns), tag, {
      params: writeParams,
      body: body(name),
      ok: name,
      created: true,
      accepted: true,
    }),
    delete: operation(
      'deletecollection',
      gvk,
      `Delete a collection of ${info.kind} objects.`,
      opId('deletecollection', info, ns),
      tag,
      {
        params: [...P.list, P.dryRun, P.gracePeriodSeconds, P.propagationPolicy],
        body: { content: content(`${META}DeleteOptions`, ['*/*']) },
        ok: `${META}Status`,
      },
    ),
  };
  paths[`${base}/{name}`] = {
    parameters: [nameParam, ...nsParam, P.pretty],
    get: operation('get', gvk, `Read the given ${info.kind}.`, opId('read', info, ns), tag, { ok: name }),
    put: operation('put', gvk, `Replace the given ${info.kind}.`, opId('replace', info, ns), tag, {
      params: writeParams,
      body: body(name),
      ok: name,
      created: true,
    }),
    patch: operation('patch', gvk, `Partially update the given ${info.kind}.`, opId('patch', info, ns), tag, {
      params: [...writeParams, P.force],
      body: patchBody,
      ok: name,
      created: true,
    }),
    delete: operation('delete', gvk, `Delete the given ${info.kind}.`, opId('delete', info, ns), tag, {
      params: [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy],
      body: { content: content(`${META}DeleteOptions`, ['*/*']) },
      ok: name,
      accepted: true,
    }),
  };
  if (ns) {
    paths[`${prefix}/${info.plural}`] = {
      parameters: [P.pretty],
      get: operation(
        'list',
        gvk,
        `List or watch ${info.kind} objects in every namespace.`,
        opId('list', info, false, 'ForAllNamespaces'),
        tag,
        {
          params: P.list,
          ok: `${name}List`,
        },
      ),
    };
  }
  for (const sub of info.subresources) {
    const subName = sub === 'scale' ? 'io.k8s.api.autoscaling.v1.Scale' : name;
    const subGvk = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : gvk;
    const suffix = sub === 'scale' ? 'Scale' : 'Status';
    paths[`${base}/{name}/${sub}`] = {
      parameters: [nameParam, ...nsParam, P.pretty],
      get: operation(
        'get',
        subGvk,
        `Read the ${sub} of the given ${info.kind}.`,
        opId('read', info, ns, suffix),
        tag,
        { ok: subName },
      ),
      put: operation(
        'put',
        subGvk,
        `Replace the ${sub} of the given ${info.kind}.`,
        opId('replace', info, ns, suffix),
        tag,
        {
          params: writeParams,
          body: body(subName),
          ok: subName,
          created: true,
        },
      ),
      patch: operation(
        'patch',
        subGvk,
        `Partially update the ${sub} of the given ${info.kind}.`,
        opId('patch', info, ns, suffix),
        tag,
        {
          params: [...writeParams, P.force],
          body: patchBody,
          ok: subName,
          created: true,
        },
      ),
    };
  }
  return paths;
}

/** `api/v1`, `apis/apps/v1`, … for every group-version served. */
function groupVersionPaths(): Map<string, ResourceInfo[]> {
  const out = new Map<string, ResourceInfo[]>();
  for (const info of RESOURCES) {
    const key = info.group === '' ? `api/${info.version}` : `apis/${info.group}/${info.version}`;
    out.set(key, [...(out.get(key) ?? []), info]);
  }
  return out;
}

function buildDocument(infos: ResourceInfo[]): Json {
  const names = new Set<string>();
  for (const n of [`${META}Status`, `${META}DeleteOptions`, `${META}Patch`, `${META}WatchEvent`])
    collectRefs(n, names);
  const paths: Json = {};
  for (const info of infos) {
    const kindName = definitionNameFor(info);
    collectRefs(kindName, names);
    collectRefs(`${kindName}List`, names);
    if (info.subresources.includes('scale')) collectRefs('io.k8s.api.autoscaling.v1.Scale', names);
    const prefix = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
    const tag = `${info.group === '' ? 'core' : info.group.split('.')[0]}_${info.version}`;
    Object.assign(paths, resourcePaths(info, prefix, tag));
  }
  const schemas = Object.fromEntries([...names].sort().map((n) => [n, publish(DEFINITIONS[n]!)]));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: {
      schemas,
      securitySchemes: {
        BearerToken: {
          type: 'apiKey',
          description: 'Bearer token authentication',
          name: 'authorization',
          in: 'header',
        },
      },
    },
    security: [{ BearerToken: [] }],
  };
}

interface Published {
  document: Json;
  hash: string;
}

let cache: Map<string, Published> | undefined;

function published(): Map<string, Published> {
  if (!cache) {
    cache = new Map();
    for (const [path, infos] of groupVersionPaths()) {
      const document = buildDocument(infos);
      const hash = createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
      cache.set(path, { document, hash });
    }
  }
  return cache;
}

/** The `paths` of the `/openapi/v3` discovery document. */
export function openApiV3Paths(): Record<string, { serverRelativeURL: string }> {
  return Object.fromEntries(
    [...published()].map(([path, p]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${p.hash}` }]),
  );
}

/** The OpenAPI v3 document of one group-version (`apis/apps/v1`, with or without a leading slash). */
export function openApiV3Document(path: string): object | undefined {
  return published().get(path.replace(/^\/+/, ''))?.document;
}
