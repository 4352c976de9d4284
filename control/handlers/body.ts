/** Request bodies: JSON or YAML objects, patch documents by content type, DeleteOptions. */
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from '../status.js';
import type { PatchType } from '../extensions.js';
import { PROTOBUF, decodeProtobufObject } from '../protobuf/envelope.js';
import type { DeleteOptions } from '../registry.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export const mediaType = (contentType: string | undefined): string =>
  (contentType ?? '').split(';')[0]!.trim().toLowerCase();

export function decodeObject(
  raw: Buffer | undefined,
  contentType: string | undefined,
): Record<string, unknown> {
  const type = mediaType(contentType);
  if (type === PROTOBUF && raw) return decodeProtobufObject(raw);
  const text = raw?.toString('utf8') ?? '';
  if (text.trim() === '') throw badRequest('the request body is empty');
  let value: unknown;
  try {
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml') value = parseYaml(text);
    else if (type === 'application/json' || type === '' || type.endsWith('+json')) value = JSON.parse(text);
    else throw unsupported(type);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`the request body could not be decoded: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the request body must be an object');
  }
  return value as Record<string, unknown>;
}

function unsupported(type: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    {
      causes: [{ message: `unsupported media type "${type}"` }],
    },
  );
}

export type PatchKind = PatchType | 'apply';

export function patchKind(contentType: string | undefined): PatchKind {
  switch (mediaType(contentType)) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
      return 'apply';
    default:
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}

export function decodePatch(raw: Buffer | undefined, kind: PatchKind): unknown {
  const text = raw?.toString('utf8') ?? '';
  try {
    const value: unknown = kind === 'apply' ? parseYaml(text) : JSON.parse(text);
    if (
      kind === 'json'
        ? !Array.isArray(value)
        : value === null || typeof value !== 'object' || Array.isArray(value)
    ) {
      throw new Error(
        kind === 'json' ? 'a JSON patch must be an array of operations' : 'the patch must be an object',
      );
    }
    return value;
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
}

const POLICIES = ['Foreground', 'Background', 'Orphan'] as const;

/** DeleteOptions from the body (kubectl) and the query string (client libraries). */
export function decodeDeleteOptions(
  raw: Buffer | undefined,
  query: Record<string, string | undefined>,
): DeleteOptions {
  const text = raw?.toString('utf8').trim() ?? '';
  let body: Record<string, unknown> = {};
  if (text !== '') {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw badRequest(`error decoding DeleteOptions: ${(err as Error).message}`);
    }
  }
  const policy = (body.propagationPolicy as string | undefined) ?? query.propagationPolicy;
  if (policy !== undefined && !(POLICIES as readonly string[]).includes(policy)) {
    throw new ApiError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
      {
        kind: 'DeleteOptions',
        group: 'meta.k8s.io',
        causes: [
          {
            reason: 'FieldValueNotSupported',
            field: 'propagationPolicy',
            message: `Unsupported value: "${policy}"`,
          },
        ],
      },
    );
  }
  const orphan =
    (body.orphanDependents as boolean | undefined) ?? (query.orphanDependents === 'true' ? true : undefined);
  const graceRaw = body.gracePeriodSeconds ?? query.gracePeriodSeconds;
  let gracePeriodSeconds: number | undefined;
  if (graceRaw !== undefined && graceRaw !== null) {
    gracePeriodSeconds = Number(graceRaw);
    if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0) {
      throw badRequest(`gracePeriodSeconds must be a non-negative integer, got ${JSON.stringify(graceRaw)}`);
    }
  }
  const pre = (body.preconditions ?? {}) as { uid?: string; resourceVersion?: string };
  // kubectl delete --dry-run=server sends it here, not in the query.
  const dry = body.dryRun;
  if (dry !== undefined && dry !== null) {
    if (!Array.isArray(dry) || dry.some((v) => v !== 'All')) {
      throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(dry)}: supported values: "All"`);
    }
  }
  return {
    ...(Array.isArray(dry) && dry.length > 0 ? { dryRun: true } : {}),
    ...(policy
      ? { propagationPolicy: policy as DeleteOptions['propagationPolicy'] }
      : orphan
        ? { propagationPolicy: 'Orphan' }
        : {}),
    ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
    ...(pre.uid || pre.resourceVersion ? { preconditions: pre } : {}),
  };
}
