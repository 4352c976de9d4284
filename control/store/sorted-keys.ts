/** A sorted set of strings with prefix range walks; keeps in-memory lists in key order. */
export class SortedKeys {
  private keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  add(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  delete(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  clear(): void {
    this.keys = [];
  }

  /** Keys starting with `prefix` and greater than `after`, in order. */
  *range(prefix: string, after?: string): Generator<string> {
    let i = this.lowerBound(after !== undefined && after >= prefix ? after : prefix);
    if (after !== undefined && this.keys[i] === after) i += 1;
    for (; i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) return;
      yield key;
    }
  }

  /** Index of the first key not less than `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
