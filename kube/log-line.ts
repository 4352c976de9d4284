/**
 * The components' log format: one JSON object per line with the time, the level where the
 * component has levels, the component's name, the message and its fields. Shared so that
 * `klab lab logs` reads every component's lines alike.
 */
export function logLine(
  component: string,
  msg: string,
  fields: Record<string, unknown> = {},
  level?: 'info' | 'warn' | 'error',
): string {
  const head = level ? { time: new Date().toISOString(), level } : { time: new Date().toISOString() };
  return `${JSON.stringify({ ...head, component, msg, ...fields })}\n`;
}
