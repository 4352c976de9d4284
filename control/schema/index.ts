export type { SchemaNode } from './types.js';
export type { FieldCause, FieldCauseReason } from './causes.js';
export { schemaForKind } from './kinds.js';
export { unknownFields } from './unknown.js';
export { validateObject } from './validate/index.js';
export { defaultObject } from './defaults/index.js';
export { openApiV3Paths, openApiV3Document } from './openapi.js';
