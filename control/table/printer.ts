import type { Obj } from './util.js';

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  /** 0: always shown; 1: shown by `kubectl get -o wide` only. */
  priority: number;
}

/** The columns of one kind and how a row's cells are computed. Pure; `now` is injected. */
export interface Printer {
  columns: Column[];
  cells(o: Obj, now: Date): unknown[];
}

export const col = (
  name: string,
  description: string,
  opts: { type?: Column['type']; priority?: number; format?: string } = {},
): Column => ({
  name,
  type: opts.type ?? 'string',
  format: opts.format ?? '',
  description,
  priority: opts.priority ?? 0,
});

export const NAME = col('Name', 'Name of the object, unique within its namespace.', { format: 'name' });
export const AGE = col('Age', 'Time since the object was created.');
export const wide = (name: string, description: string, type: Column['type'] = 'string'): Column =>
  col(name, description, { type, priority: 1 });
