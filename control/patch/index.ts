/** The patch engine: pure functions the API server calls for PATCH and for field ownership. */
export { applyJsonMergePatch } from './merge-patch.js';
export { applyJsonPatch } from './json-patch.js';
export { applyStrategicMergePatch } from './strategic.js';
export {
  serverSideApply,
  recordManagedFields,
  type ServerSideApplyOptions,
  type RecordManagedFieldsOptions,
} from './apply.js';
export { PatchError, ApplyConflictError, type ApplyConflict } from './errors.js';
