import { Path, forbidden, immutable, invalid, notSupported, required, type FieldCause } from '../causes.js';
import { validatePodSpec } from './pod.js';
import { selectorIsEmpty, selectorMatches, validateLabelSelector } from './selector.js';
import { validateMetadataOfTemplate } from './template.js';
import { asNum, asObj, asStr, jsonEqual, type Obj } from './util.js';

const SPEC = Path.root('spec');

function nonNegative(spec: Obj, field: string): FieldCause[] {
  const v = asNum(spec[field]);
  return v !== undefined && v < 0
    ? [invalid(SPEC.child(field), v, 'must be greater than or equal to 0')]
    : [];
}

/** The shared part of Deployments and ReplicaSets: replicas, selector, template. */
function validateReplicated(spec: Obj, kind: string): FieldCause[] {
  const causes: FieldCause[] = [...nonNegative(spec, 'replicas'), ...nonNegative(spec, 'minReadySeconds')];
  const selector = asObj(spec.selector);
  if (!selector) causes.push(required(SPEC.child('selector')));
  else {
    causes.push(...validateLabelSelector(selector, SPEC.child('selector')));
    if (selectorIsEmpty(selector)) {
      causes.push(invalid(SPEC.child('selector'), selector, `empty selector is invalid for ${kind}`));
    }
  }
  const template = asObj(spec.template);
  if (!template) {
    causes.push(required(SPEC.child('template')));
    return causes;
  }
  const tmplMeta = asObj(template.metadata) ?? {};
  const labels = asObj(tmplMeta.labels) ?? {};
  causes.push(...validateMetadataOfTemplate(tmplMeta, SPEC.child('template', 'metadata')));
  if (selector && !selectorIsEmpty(selector) && !selectorMatches(selector, labels)) {
    causes.push(
      invalid(
        SPEC.child('template', 'metadata', 'labels'),
        labels,
        '`selector` does not match template `labels`',
      ),
    );
  }
  causes.push(...validatePodSpec(template.spec, SPEC.child('template', 'spec'), { template: true }));
  return causes;
}

function isPercent(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9]+%$/.test(v);
}

function validateIntOrPercent(v: unknown, path: Path): FieldCause[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return v < 0 ? [invalid(path, v, 'must be greater than or equal to 0')] : [];
  if (!isPercent(v))
    return [
      invalid(
        path,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    ];
  return Number.parseInt(v, 10) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}

const isZero = (v: unknown) => v === 0 || v === '0%';

function validateStrategy(value: unknown): FieldCause[] {
  const strategy = asObj(value);
  if (!strategy) return [];
  const path = SPEC.child('strategy');
  const type = asStr(strategy.type) ?? 'RollingUpdate';
  const rolling = asObj(strategy.rollingUpdate);
  if (type === 'Recreate') {
    return rolling
      ? [forbidden(path.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")]
      : [];
  }
  if (type !== 'RollingUpdate')
    return [notSupported(path.child('type'), type, ['Recreate', 'RollingUpdate'])];
  if (!rolling) return [];
  const rp = path.child('rollingUpdate');
  const causes = [
    ...validateIntOrPercent(rolling.maxUnavailable, rp.child('maxUnavailable')),
    ...validateIntOrPercent(rolling.maxSurge, rp.child('maxSurge')),
  ];
  if (isZero(rolling.maxSurge) && isZero(rolling.maxUnavailable)) {
    causes.push(
      invalid(rp.child('maxUnavailable'), rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'),
    );
  }
  return causes;
}

export function validateDeploymentSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes = [...validateReplicated(spec, 'deployment'), ...validateStrategy(spec.strategy)];
  causes.push(...nonNegative(spec, 'revisionHistoryLimit'));
  const deadline = asNum(spec.progressDeadlineSeconds);
  if (deadline !== undefined) {
    if (deadline < 0)
      causes.push(
        invalid(SPEC.child('progressDeadlineSeconds'), deadline, 'must be greater than or equal to 0'),
      );
    else if (deadline <= (asNum(spec.minReadySeconds) ?? 0)) {
      causes.push(
        invalid(SPEC.child('progressDeadlineSeconds'), deadline, 'must be greater than minReadySeconds'),
      );
    }
  }
  return causes;
}

export function validateReplicaSetSpec(value: unknown): FieldCause[] {
  return validateReplicated(asObj(value) ?? {}, 'replicaset');
}

/** The selector of a Deployment or ReplicaSet is fixed once created (apps/v1). */
export function validateSelectorUpdate(value: unknown, oldValue: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const old = asObj(oldValue) ?? {};
  return old.selector !== undefined && !jsonEqual(spec.selector, old.selector)
    ? [immutable(SPEC.child('selector'), spec.selector)]
    : [];
}
