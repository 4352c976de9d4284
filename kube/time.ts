/** RFC 3339 with second precision, as Kubernetes serialises metav1.Time. */
export const timestamp = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z');
