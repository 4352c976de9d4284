/**
 * Kubernetes `Status` errors, shaped as kube-apiserver sends them: kubectl renders its
 * messages from `reason`, `message` and (for Invalid) `details.causes`.
 */
import type { ResourceInfo } from './resources.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `services`, or `deployments.apps` for named groups: how kube names a resource in messages. */
export const qualifiedResource = (info: Pick<ResourceInfo, 'group' | 'plural'>): string =>
  info.group ? `${info.plural}.${info.group}` : info.plural;

const resourceDetails = (info: Pick<ResourceInfo, 'group' | 'plural'>, name: string): StatusDetails => ({
  name,
  ...(info.group ? { group: info.group } : {}),
  kind: info.plural,
});

export const notFound = (info: Pick<ResourceInfo, 'group' | 'plural'>, name: string): ApiError =>
  new ApiError(
    404,
    'NotFound',
    `${qualifiedResource(info)} "${name}" not found`,
    resourceDetails(info, name),
  );

export const alreadyExists = (info: Pick<ResourceInfo, 'group' | 'plural'>, name: string): ApiError =>
  new ApiError(
    409,
    'AlreadyExists',
    `${qualifiedResource(info)} "${name}" already exists`,
    resourceDetails(info, name),
  );

export const conflict = (info: Pick<ResourceInfo, 'group' | 'plural'>, name: string, why: string): ApiError =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": ${why}`,
    resourceDetails(info, name),
  );

export const STALE_OBJECT =
  'the object has been modified; please apply your changes to the latest version and try again';

export const pathNotFound = (): ApiError =>
  new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const methodNotAllowed = (method: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {
    causes: [{ message: `method ${method} is not supported here` }],
  });

export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const internalError = (message: string): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });

/** kube-apiserver's 422: `details.kind` is the Kind, each cause names one bad field. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const message =
    causes.length > 1
      ? `${kind} "${name}" is invalid: [${summary}]`
      : `${kind} "${name}" is invalid: ${summary}`;
  return new ApiError(422, 'Invalid', message, { name, ...(group ? { group } : {}), kind, causes });
}

export function successStatus(
  info: Pick<ResourceInfo, 'group' | 'plural'>,
  name: string,
  uid?: string,
): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(info, name), ...(uid ? { uid } : {}) },
  };
}
