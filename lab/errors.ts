/** Lab failures carry a stable code and a hint telling the user what to do next. */
export type LabErrorCode =
  | 'BAD_LAB_NAME'
  | 'BAD_NODE_COUNT'
  | 'LAB_EXISTS'
  | 'LAB_NOT_FOUND'
  | 'UNKNOWN_HOST'
  | 'HOST_ACCESS_TAKEN'
  | 'STEP_FAILED'
  | 'INTERRUPTED'
  | 'FORCED_FAILURE'
  | 'BAD_STATE'
  | 'PROCESS_FAILED'
  | 'NO_LOG'
  | 'BAD_USAGE';

export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

/** One line (plus the hint) for the terminal. */
export function describeError(error: unknown): string {
  if (error instanceof LabError) return error.hint ? `${error.message}\n  → ${error.hint}` : error.message;
  return error instanceof Error ? error.message : String(error);
}
