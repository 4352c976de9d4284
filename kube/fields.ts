/**
 * Field selectors (`?fieldSelector=metadata.name=x,spec.nodeName!=n1`): the grammar with
 * `=`, `==`, `!=` and backslash escapes, and the per-kind field sets kube-apiserver supports.
 */
import { SelectorError } from './labels.js';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: 'Equals' | 'NotEquals';
  readonly value: string;
}

type Obj = Record<string, unknown>;

/** Splits on unescaped `sep`, keeping escapes in place. */
function splitUnescaped(input: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i] as string;
    if (c === '\\' && i + 1 < input.length) {
      current += c + (input[i + 1] as string);
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(value: string, whole: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      const n = value[i + 1];
      if (n === undefined || !'\\,='.includes(n)) {
        throw new SelectorError(`invalid field selector "${whole}": invalid escape sequence`);
      }
      out += n;
      i++;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector "${whole}": unescaped "${c}" in value`);
    } else {
      out += c;
    }
  }
  return out;
}

export function parseFieldSelector(input: string): FieldRequirement[] {
  if (input.trim() === '') return [];
  return splitUnescaped(input, ',').map((term) => {
    const m = /^([^=!\s]+)\s*(==|!=|=)(.*)$/.exec(term.trim());
    if (!m)
      throw new SelectorError(`invalid field selector "${input}": "${term}" is not a "field=value" term`);
    const [, field, op, raw] = m as unknown as [string, string, string, string];
    return { field, operator: op === '!=' ? 'NotEquals' : 'Equals', value: unescape(raw, input) };
  });
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function get(obj: Obj, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[part];
  }
  return cur;
}

/** Fields every kind supports, plus the extras kube-apiserver registers per kind. */
const EXTRA_FIELDS: Record<string, readonly string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
  ReplicaSet: ['status.replicas'],
};

export function supportedFields(kind: string): readonly string[] {
  return ['metadata.name', 'metadata.namespace', ...(EXTRA_FIELDS[kind] ?? [])];
}

/** Throws a SelectorError naming the first field the kind does not support. */
export function checkFields(kind: string, requirements: readonly FieldRequirement[]): void {
  const allowed = supportedFields(kind);
  for (const r of requirements) {
    if (!allowed.includes(r.field)) {
      throw new SelectorError(`field label not supported: ${r.field}`);
    }
  }
}

function fieldValue(obj: Obj, field: string): string {
  if (field === 'source') return str(get(obj, 'source.component'));
  if (field === 'spec.hostNetwork' || field === 'spec.unschedulable') return String(get(obj, field) === true);
  return str(get(obj, field));
}

export function matchesFields(requirements: readonly FieldRequirement[], obj: Obj): boolean {
  return requirements.every((r) => {
    const v = fieldValue(obj, r.field);
    return r.operator === 'Equals' ? v === r.value : v !== r.value;
  });
}
