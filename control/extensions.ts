/**
 * What the API server takes from the schema, table and patch layers. The app receives one
 * `Extensions` value, so handlers stay independent of how those layers are built.
 */
import type { ResourceInfo } from './resources.js';
import type { SchemaHooks } from './registry.js';
import type { KubeObject } from './objects.js';
import type { StatusCause } from './status.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export type PatchType = 'merge' | 'json' | 'strategic';

export interface ApplyInput {
  readonly info: ResourceInfo;
  readonly live: KubeObject | undefined;
  readonly applied: KubeObject;
  readonly manager: string;
  readonly force: boolean;
  readonly now: Date;
  readonly subresource?: string;
}

export interface Extensions extends SchemaHooks {
  toTable(
    info: ResourceInfo,
    objects: readonly KubeObject[],
    includeObject: IncludeObject,
    now: Date,
  ): KubeObject;
  /** Applies a patch document; throws ApiError for a malformed or inapplicable patch. */
  patch(type: PatchType, info: ResourceInfo, target: KubeObject, patch: unknown): KubeObject;
  /** Server-side apply; throws ApiError 409 with FieldManagerConflict causes on conflicts. */
  apply(input: ApplyInput): KubeObject;
  openApiV3Paths(): Record<string, { serverRelativeURL: string }>;
  openApiV3Document(path: string): object | undefined;
}

export type { StatusCause };
