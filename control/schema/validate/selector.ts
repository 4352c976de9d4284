import type { Path } from '../causes.js';
import { forbidden, notSupported, required, type FieldCause } from '../causes.js';
import { checkLabels, each, qualifiedName } from './names.js';
import { asArr, asObj, asStr, objects } from './util.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** A metav1.LabelSelector: valid keys, values and operators. */
export function validateLabelSelector(value: unknown, path: Path): FieldCause[] {
  const sel = asObj(value);
  if (!sel) return [];
  const causes = checkLabels(sel.matchLabels, path.child('matchLabels'));
  objects(sel.matchExpressions).forEach((expr, i) => {
    const p = path.child('matchExpressions').index(i);
    const key = asStr(expr.key) ?? '';
    causes.push(...each(p.child('key'), key, qualifiedName(key)));
    const op = asStr(expr.operator) ?? '';
    const values = asArr(expr.values);
    if (!OPERATORS.includes(op)) causes.push(notSupported(p.child('operator'), op, OPERATORS));
    else if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      causes.push(required(p.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      causes.push(
        forbidden(p.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
      );
    }
  });
  return causes;
}

/** Whether a LabelSelector selects a set of labels (for selector-vs-template checks). */
export function selectorMatches(value: unknown, labels: Record<string, unknown>): boolean {
  const sel = asObj(value) ?? {};
  for (const [k, v] of Object.entries(asObj(sel.matchLabels) ?? {})) if (labels[k] !== v) return false;
  for (const expr of objects(sel.matchExpressions)) {
    const key = asStr(expr.key) ?? '';
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const values = asArr(expr.values);
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function selectorIsEmpty(value: unknown): boolean {
  const sel = asObj(value) ?? {};
  return Object.keys(asObj(sel.matchLabels) ?? {}).length === 0 && asArr(sel.matchExpressions).length === 0;
}
