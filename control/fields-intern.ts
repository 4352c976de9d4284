/**
 * One shared copy of each distinct `metadata.managedFields[].fieldsV1` tree among the objects
 * the watch caches keep. A fieldsV1 tree is a JSON object per owned field
 * (`{"f:spec":{"f:ports":{…}}}`), a quarter of the server's heap at 10k Services and 10k
 * EndpointSlices, and the same for every object one manager wrote the same fields of (the
 * EndpointSlices one controller writes, the Pods of one ReplicaSet). Fewer objects also means
 * less for each major GC to mark while watchers wait.
 *
 * Shared trees are frozen: nothing edits a fieldsV1 tree in place (server-side apply reads one
 * into a FieldSet and writes a new tree), and a write to a shared one would change every object
 * holding it, so it must fail loudly. A tree no object refers to any more is collected, and
 * its table entry after it.
 */
import { hash } from 'node:crypto';
import type { JsonObject } from './store/index.js';
import { isObject } from './patch/json.js';

export class FieldsV1Interner {
  /** sha256 of the tree's JSON → the shared tree. */
  private readonly trees = new Map<string, WeakRef<JsonObject>>();
  private readonly forget = new FinalizationRegistry<string>((digest) => {
    if (this.trees.get(digest)?.deref() === undefined) this.trees.delete(digest);
  });

  /** Points each fieldsV1 of `obj` at the shared equal tree (the first one seen becomes it). */
  intern(obj: JsonObject): void {
    const metadata = obj.metadata;
    if (!isObject(metadata) || !Array.isArray(metadata.managedFields)) return;
    for (const entry of metadata.managedFields as unknown[]) {
      // A frozen tree is one this table shares already.
      if (!isObject(entry) || !isObject(entry.fieldsV1) || Object.isFrozen(entry.fieldsV1)) continue;
      // Equal JSON, not just equal content: a shared tree must serialize byte for byte as the
      // one it replaces.
      const digest = hash('sha256', JSON.stringify(entry.fieldsV1), 'base64');
      let tree = this.trees.get(digest)?.deref();
      if (tree === undefined) {
        tree = deepFreeze(entry.fieldsV1);
        this.trees.set(digest, new WeakRef(tree));
        this.forget.register(tree, digest);
      }
      entry.fieldsV1 = tree;
    }
  }

  /** Distinct trees held (for tests). */
  get size(): number {
    return this.trees.size;
  }
}

function deepFreeze(tree: JsonObject): JsonObject {
  for (const value of Object.values(tree)) if (isObject(value)) deepFreeze(value);
  return Object.freeze(tree);
}
