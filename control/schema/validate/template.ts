import type { Path, FieldCause } from '../causes.js';
import { checkAnnotations, checkLabels } from './names.js';
import type { Obj } from './util.js';

/** Template metadata carries only labels and annotations worth checking; names come later. */
export function validateMetadataOfTemplate(meta: Obj, path: Path): FieldCause[] {
  return [
    ...checkLabels(meta.labels, path.child('labels')),
    ...checkAnnotations(meta.annotations, path.child('annotations')),
  ];
}
