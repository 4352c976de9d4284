/**
 * The Extensions the server runs with: schema defaulting, validation and OpenAPI from
 * control/schema, Table printing from control/table, and the patch engine from control/patch,
 * with their errors mapped to the Status codes kube-apiserver uses.
 */
import {
  ApplyConflictError,
  PatchError,
  applyJsonMergePatch,
  applyJsonPatch,
  applyStrategicMergePatch,
  recordManagedFields,
  serverSideApply,
} from './patch/index.js';
import {
  defaultObject,
  openApiV3Document,
  openApiV3Paths,
  schemaForKind,
  unknownFields,
  validateObject,
} from './schema/index.js';
import { toTable } from './table/index.js';
import type { Extensions } from './extensions.js';
import type { KubeObject } from './objects.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import { ApiError } from './status.js';

const schemaOf = (info: ResourceInfo) => schemaForKind(apiVersionOf(info), info.kind);

/** Maps the patch engine's errors to Status: PatchError keeps its 400/422, conflicts are 409. */
function patchErrors<T>(info: ResourceInfo, name: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ApplyConflictError) {
      throw new ApiError(409, 'Conflict', err.message, {
        ...(info.group ? { group: info.group } : {}),
        kind: info.plural,
        name,
        causes: err.conflicts.map((c) => ({
          reason: 'FieldManagerConflict',
          message: c.message,
          field: c.field,
        })),
      });
    }
    if (err instanceof PatchError) {
      throw err.status === 422
        ? new ApiError(422, 'Invalid', err.message, {
            name,
            ...(info.group ? { group: info.group } : {}),
            kind: info.kind,
            causes: [{ reason: 'FieldValueInvalid', message: err.message }],
          })
        : new ApiError(400, 'BadRequest', err.message);
    }
    throw err;
  }
}

const nameOf = (obj: KubeObject | undefined): string => obj?.metadata?.name ?? '';

export const extensions: Extensions = {
  defaultObject: (info, obj) => defaultObject(info, obj) as KubeObject,
  validate: (info, obj, old) => validateObject(info, obj, old),
  unknownFields: (info, obj) => unknownFields(info, obj),
  recordManagedFields: ({ info, old, updated, manager, now, subresource }) =>
    patchErrors(
      info,
      nameOf(updated),
      () =>
        recordManagedFields({
          old,
          updated,
          manager,
          operation: 'Update',
          schema: schemaOf(info),
          now,
          ...(subresource ? { subresource } : {}),
        }) as KubeObject,
    ),
  toTable: (info, objects, includeObject, now) =>
    toTable(info, [...objects], { includeObject, now }) as KubeObject,
  patch: (type, info, target, patch) =>
    patchErrors(info, nameOf(target), () => {
      switch (type) {
        case 'merge':
          return applyJsonMergePatch(target, patch) as KubeObject;
        case 'json':
          return applyJsonPatch(target, patch) as KubeObject;
        case 'strategic':
          return applyStrategicMergePatch(target, patch, schemaOf(info)) as KubeObject;
      }
    }),
  apply: ({ info, live, applied, manager, force, now, subresource }) =>
    patchErrors(
      info,
      nameOf(live ?? applied),
      () =>
        serverSideApply({
          live,
          applied,
          manager,
          force,
          schema: schemaOf(info),
          now,
          ...(subresource ? { subresource } : {}),
        }) as KubeObject,
    ),
  openApiV3Paths,
  openApiV3Document,
};
