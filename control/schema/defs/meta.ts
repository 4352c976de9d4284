import {
  INT_OR_STRING,
  META,
  QUANTITY,
  arr,
  bool,
  enumStr,
  int32,
  int64,
  keyedList,
  obj,
  ref,
  setList,
  str,
  stringMap,
  time,
  type Definitions,
} from '../dsl.js';

/** apimachinery types shared by every group: object and list metadata, selectors, Status. */
export const metaDefinitions: Definitions = {
  [`${META}Time`]: str('A timestamp in RFC 3339 form, at second precision.', { format: 'date-time' }),
  [`${META}MicroTime`]: str('A timestamp in RFC 3339 form, at microsecond precision.', {
    format: 'date-time',
  }),
  [INT_OR_STRING]: {
    type: 'string',
    format: 'int-or-string',
    description: 'Either an integer or a string (a port number or a port name, a count or a percentage).',
    'x-kubernetes-int-or-string': true,
  },
  [QUANTITY]: {
    type: 'string',
    format: 'quantity',
    description: 'A fixed-point amount such as 100m, 1.5, 128Mi or 2G.',
  },
  [`${META}FieldsV1`]: {
    type: 'object',
    description: 'The set of fields a manager owns, as a trie of f:/k:/v:/i: keys.',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    type: 'object',
    description: 'An embedded object of any kind.',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${META}OwnerReference`]: {
    ...obj(
      'Names an object that owns this one; dependents are deleted with their owner.',
      {
        apiVersion: str('API version of the owner.'),
        kind: str('Kind of the owner.'),
        name: str('Name of the owner.'),
        uid: str('UID of the owner.'),
        controller: bool('True when the owner is the managing controller; at most one owner may be.'),
        blockOwnerDeletion: bool(
          'When true, the owner cannot be deleted in the foreground before this object.',
        ),
      },
      ['apiVersion', 'kind', 'name', 'uid'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${META}ManagedFieldsEntry`]: obj('Which fields one manager set, and through which operation.', {
    manager: str('Name of the manager (the fieldManager of its requests).'),
    operation: str('Apply or Update.'),
    apiVersion: str('API version the fields are expressed in.'),
    time: time('When these fields were last changed by this manager.'),
    fieldsType: str('Format of fieldsV1; always FieldsV1.'),
    fieldsV1: ref(`${META}FieldsV1`, 'The owned fields.'),
    subresource: str('Subresource the request was sent to, if any.'),
  }),
  [`${META}ObjectMeta`]: obj('Metadata every persisted object carries.', {
    name: str('Unique name within the namespace (or cluster, for cluster-scoped kinds).'),
    generateName: str('Prefix from which the server builds a unique name when name is empty.'),
    namespace: str('Namespace the object lives in; empty for cluster-scoped kinds.'),
    selfLink: str('Deprecated and never set.'),
    uid: str('Unique identifier assigned by the server; never reused.'),
    resourceVersion: str('Opaque version of the object, used for optimistic concurrency and watches.'),
    generation: int64('Sequence number of the desired state; bumped on spec changes.'),
    creationTimestamp: time('When the server stored the object first.'),
    deletionTimestamp: time('When graceful deletion was requested; set by the server.'),
    deletionGracePeriodSeconds: int64('Seconds the object is allowed to shut down before removal.'),
    labels: stringMap('Key/value pairs for selecting and grouping objects.'),
    annotations: stringMap('Key/value pairs for tools and humans; not used for selection.'),
    ownerReferences: keyedList(`${META}OwnerReference`, 'Objects this object depends on.', {
      mapKeys: ['uid'],
      mergeKey: 'uid',
      strategy: 'merge',
    }),
    finalizers: {
      ...setList('Keys that must be removed before the object is deleted.'),
      'x-kubernetes-patch-strategy': 'merge',
    },
    managedFields: arr(
      { $ref: `${META}ManagedFieldsEntry` },
      'Which manager owns which fields, for server-side apply.',
      { 'x-kubernetes-list-type': 'atomic' },
    ),
  }),
  [`${META}ListMeta`]: obj('Metadata of a list response.', {
    resourceVersion: str('Store revision the list was read at.'),
    continue: str('Token to fetch the next page, when the list was cut by limit.'),
    remainingItemCount: int64('How many items were left out by limit, when known.'),
    selfLink: str('Deprecated and never set.'),
  }),
  [`${META}LabelSelectorRequirement`]: obj(
    'One expression of a label selector.',
    {
      key: str('The label key.'),
      operator: str('In, NotIn, Exists or DoesNotExist.'),
      values: {
        ...arr(str(''), 'Values for In and NotIn; empty for Exists and DoesNotExist.'),
        'x-kubernetes-list-type': 'atomic',
      },
    },
    ['key', 'operator'],
  ),
  [`${META}LabelSelector`]: {
    ...obj('Selects objects by labels; all terms must match. An empty selector matches everything.', {
      matchLabels: stringMap('Labels that must be present with these exact values.'),
      matchExpressions: arr({ $ref: `${META}LabelSelectorRequirement` }, 'Set-based requirements.', {
        'x-kubernetes-list-type': 'atomic',
      }),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${META}Condition`]: obj(
    'One aspect of the current state of an object.',
    {
      type: str('Kind of condition, in CamelCase.'),
      status: enumStr('Whether the condition holds.', ['True', 'False', 'Unknown']),
      observedGeneration: int64('metadata.generation the condition was computed from.'),
      lastTransitionTime: time('When status last changed.'),
      reason: str('Machine-readable CamelCase reason for the last transition.'),
      message: str('Human-readable details.'),
    },
    ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  ),
  [`${META}StatusCause`]: obj('One reason an operation failed.', {
    reason: str('Machine-readable cause, such as FieldValueInvalid.'),
    message: str('Human-readable description of the cause.'),
    field: str('Path of the field at fault, such as spec.ports[0].port.'),
  }),
  [`${META}StatusDetails`]: obj('Extra data about a failed operation.', {
    name: str('Name of the object concerned.'),
    group: str('API group of the object concerned.'),
    kind: str('Kind (or resource) of the object concerned.'),
    uid: str('UID of the object concerned.'),
    causes: arr({ $ref: `${META}StatusCause` }, 'Every individual cause.', {
      'x-kubernetes-list-type': 'atomic',
    }),
    retryAfterSeconds: int32('Seconds to wait before retrying.'),
  }),
  [`${META}Status`]: {
    ...obj('Result of an operation that does not return an object; also every error.', {
      apiVersion: str('Always v1.'),
      kind: str('Always Status.'),
      metadata: ref(`${META}ListMeta`, 'Standard list metadata.'),
      status: str('Success or Failure.'),
      message: str('Human-readable description.'),
      reason: str('Machine-readable reason, such as NotFound or Invalid.'),
      details: ref(`${META}StatusDetails`, 'Extra data, depending on reason.'),
      code: int32('HTTP status code.'),
    }),
    'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
  },
  [`${META}Preconditions`]: obj('Conditions that must hold before a delete goes ahead.', {
    uid: str('The object must have this UID.'),
    resourceVersion: str('The object must be at this resourceVersion.'),
  }),
  [`${META}DeleteOptions`]: obj('Options of a delete request.', {
    apiVersion: str('API version of this object.'),
    kind: str('Always DeleteOptions.'),
    gracePeriodSeconds: int64('Seconds before the object is removed; 0 deletes at once.'),
    preconditions: ref(`${META}Preconditions`, 'Must be fulfilled for the delete to proceed.'),
    orphanDependents: bool('Deprecated; use propagationPolicy.'),
    propagationPolicy: str('Orphan, Background or Foreground garbage collection of dependents.'),
    dryRun: arr(str(''), 'When set to All, nothing is persisted.', { 'x-kubernetes-list-type': 'atomic' }),
    ignoreStoreReadErrorWithClusterBreakingPotential: bool(
      'Delete even if the stored object cannot be read.',
    ),
  }),
  [`${META}Patch`]: {
    type: 'object',
    description: 'The body of a PATCH request, in the format its Content-Type names.',
  },
  [`${META}WatchEvent`]: obj(
    'One event of a watch stream.',
    {
      type: str('ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.'),
      object: ref('io.k8s.apimachinery.pkg.runtime.RawExtension', 'The object (or a Status for ERROR).'),
    },
    ['type', 'object'],
  ),
};

export const objectMetaRef = (description = 'Standard object metadata.') =>
  ref(`${META}ObjectMeta`, description);
export const selectorRef = (description: string) => ref(`${META}LabelSelector`, description);
export const conditionList = (itemRef: string, description: string) =>
  keyedList(itemRef, description, { mapKeys: ['type'], mergeKey: 'type', strategy: 'merge' });
