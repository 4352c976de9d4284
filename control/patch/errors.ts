/**
 * Errors of the patch engine. `status` follows kube-apiserver: a patch that cannot be decoded or
 * is malformed is 400 BadRequest; a well-formed patch that cannot be applied to this object is
 * 422 (JSON patch `test` failures, missing paths, `$retainKeys` mismatches, lists of lists).
 */
export class PatchError extends Error {
  readonly code = 'InvalidPatch' as const;

  constructor(
    readonly status: 400 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

export interface ApplyConflict {
  /** The manager whose field the apply would change. */
  readonly manager: string;
  /** The field as kube prints it: `.spec.replicas`, `.spec.ports[port=80,protocol="TCP"]`. */
  readonly field: string;
  /** The Status cause message kube-apiserver sends: `conflict with "m" using apps/v1`. */
  readonly message: string;
}

/**
 * A server-side apply would change fields other managers own (409 Conflict, cause reason
 * FieldManagerConflict). The message is kube-apiserver's, e.g.
 * `Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas`.
 */
export class ApplyConflictError extends Error {
  readonly code = 'FieldManagerConflict' as const;
  readonly status = 409 as const;

  constructor(readonly conflicts: readonly ApplyConflict[]) {
    super(conflictMessage(conflicts));
    this.name = 'ApplyConflictError';
  }
}

function conflictMessage(conflicts: readonly ApplyConflict[]): string {
  const n = conflicts.length;
  const head = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
  const only = conflicts[0];
  if (n === 1 && only) return `${head}${only.message}: ${only.field}`;
  const byManager = new Map<string, ApplyConflict[]>();
  for (const c of conflicts) byManager.set(c.message, [...(byManager.get(c.message) ?? []), c]);
  const lines: string[] = [];
  for (const message of [...byManager.keys()].sort()) {
    lines.push(`${message.replace(/^conflict /, 'conflicts ')}:`);
    for (const c of byManager.get(message) ?? []) lines.push(`- ${c.field}`);
  }
  return head + lines.join('\n');
}
