/**
 * Kubernetes label selectors: the string grammar of `?labelSelector=` and `kubectl -l`
 * (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, `a>1`, `a<1`) and the
 * structured `LabelSelector` of Services, Deployments and ReplicaSets, both compiled to one
 * list of requirements that `matches` evaluates.
 */
export type Operator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined;

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks a label key (`[prefix/]name`); returns the reason it is invalid, or undefined. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters`;
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return `name part must be at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

/** Checks a label value; returns the reason it is invalid, or undefined. */
export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_PART.test(value)) {
    return `a valid label must be an empty string or at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

type Token =
  | { kind: 'id'; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'end'; pos: number };

const OPERATOR_CHARS = '=!<>(),';

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (OPERATOR_CHARS.includes(c)) {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two, pos: i });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c, pos: i });
        i++;
      }
      continue;
    }
    const start = i;
    while (
      i < input.length &&
      !OPERATOR_CHARS.includes(input[i] as string) &&
      !/\s/.test(input[i] as string)
    ) {
      i++;
    }
    tokens.push({ kind: 'id', text: input.slice(start, i), pos: start });
  }
  tokens.push({ kind: 'end', pos: input.length });
  return tokens;
}

/** Parses the string form; an empty string selects everything. */
export function parseSelector(input: string): Requirement[] {
  const tokens = tokenize(input);
  let at = 0;
  const peek = (): Token => tokens[at] as Token;
  const next = (): Token => tokens[at++] as Token;
  const fail = (what: string, token: Token): never => {
    throw new SelectorError(`unable to parse requirement: ${what} at position ${token.pos} in "${input}"`);
  };
  const checkKey = (key: string, token: Token): void => {
    const err = labelKeyError(key);
    if (err) fail(`invalid label key "${key}": ${err}`, token);
  };
  const checkValue = (value: string, token: Token): void => {
    const err = labelValueError(value);
    if (err) fail(`invalid label value "${value}": ${err}`, token);
  };
  const valueSet = (): string[] => {
    const open = next();
    if (open.kind !== 'op' || open.text !== '(') fail('expected "("', open);
    const values: string[] = [];
    for (;;) {
      const t = next();
      if (t.kind === 'id') {
        checkValue(t.text, t);
        values.push(t.text);
        const after = next();
        if (after.kind === 'op' && after.text === ')') return values;
        if (!(after.kind === 'op' && after.text === ',')) fail('expected "," or ")"', after);
      } else if (t.kind === 'op' && t.text === ')' && values.length === 0) {
        return values;
      } else if (t.kind === 'op' && t.text === ',') {
        values.push('');
      } else {
        fail('expected a value', t);
      }
    }
  };

  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return requirements;
  for (;;) {
    const first = next();
    if (first.kind === 'op' && first.text === '!') {
      const key = next();
      if (key.kind !== 'id') return fail('expected a key after "!"', key);
      checkKey(key.text, key);
      requirements.push({ key: key.text, operator: 'DoesNotExist', values: [] });
    } else if (first.kind === 'id') {
      checkKey(first.text, first);
      const op = peek();
      if (op.kind === 'end' || (op.kind === 'op' && op.text === ',')) {
        requirements.push({ key: first.text, operator: 'Exists', values: [] });
      } else if (op.kind === 'id' && (op.text === 'in' || op.text === 'notin')) {
        next();
        const values = valueSet();
        requirements.push({ key: first.text, operator: op.text === 'in' ? 'In' : 'NotIn', values });
      } else if (op.kind === 'op' && ['=', '==', '!=', '<', '>'].includes(op.text)) {
        next();
        const v = peek();
        let value = '';
        if (v.kind === 'id') {
          next();
          value = v.text;
        } else if (!(v.kind === 'end' || (v.kind === 'op' && v.text === ','))) {
          fail('expected a value', v);
        }
        if (op.text === '<' || op.text === '>') {
          if (!/^-?\d+$/.test(value))
            fail(`for "${op.text}" the value must be an integer, got "${value}"`, v);
          requirements.push({ key: first.text, operator: op.text === '<' ? 'Lt' : 'Gt', values: [value] });
        } else {
          checkValue(value, v);
          requirements.push({
            key: first.text,
            operator: op.text === '!=' ? 'NotEquals' : 'Equals',
            values: [value],
          });
        }
      } else {
        fail('expected an operator (=, ==, !=, in, notin, <, >)', op);
      }
    } else {
      fail('expected a key', first);
    }
    const sep = next();
    if (sep.kind === 'end') return requirements;
    if (!(sep.kind === 'op' && sep.text === ',')) fail('expected ","', sep);
  }
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const STRUCTURED_OPERATORS: Record<string, Operator> = {
  In: 'In',
  NotIn: 'NotIn',
  Exists: 'Exists',
  DoesNotExist: 'DoesNotExist',
};

/**
 * Compiles a structured selector. As in Kubernetes, an empty selector `{}` selects everything
 * (callers that want "a missing selector selects nothing", like Services, check for absence).
 */
export function fromLabelSelector(selector: LabelSelector): Requirement[] {
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    out.push({ key, operator: 'Equals', values: [value] });
  }
  for (const expr of selector.matchExpressions ?? []) {
    const operator = STRUCTURED_OPERATORS[expr.operator];
    if (!operator) throw new SelectorError(`"${expr.operator}" is not a valid label selector operator`);
    out.push({ key: expr.key, operator, values: expr.values ?? [] });
  }
  return out;
}

/** A Service-style `{key: value}` selector. */
export function fromMap(map: Readonly<Record<string, string>>): Requirement[] {
  return Object.entries(map).map(([key, value]) => ({ key, operator: 'Equals', values: [value] }));
}

export function matches(requirements: readonly Requirement[], labels: Labels): boolean {
  return requirements.every((r) => {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.operator) {
      case 'Equals':
      case 'In':
        return value !== undefined && r.values.includes(value);
      case 'NotEquals':
      case 'NotIn':
        return value === undefined || !r.values.includes(value);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'Gt':
      case 'Lt': {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        const a = Number(value);
        const b = Number(r.values[0]);
        return r.operator === 'Gt' ? a > b : a < b;
      }
    }
  });
}

/** The canonical string form, as kube-apiserver prints selectors (`a=b,c in (x,y)`). */
export function formatSelector(requirements: readonly Requirement[]): string {
  return requirements
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0] ?? ''}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0] ?? ''}`;
        case 'In':
          return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'Gt':
          return `${r.key}>${r.values[0] ?? ''}`;
        case 'Lt':
          return `${r.key}<${r.values[0] ?? ''}`;
      }
    })
    .join(',');
}
