// PHP-style trees from form keys (spec http.md §2.3/§2.4): "a[b][]" → {"a":{"b":[...]}},
// built with RoadRunner's rules so PHP sees the same $_POST / uploaded-files structure.

/** Keys nested deeper than this are ignored (RoadRunner's MaxLevel). */
const MAX_LEVEL = 127;

/** "name[a][b][]" → ["name", "a", "b", ""]; spaces ignored; text after "]" starts a new segment. */
export function formKeySegments(key: string): string[] {
  const keys = [""];
  let pos = 0; // 0: in a segment, 1: just after "[", 2: just after "]"
  for (const ch of key) {
    if (ch === " ") continue;
    if (ch === "[") {
      pos = 1;
      continue;
    }
    if (ch === "]") {
      if (pos === 1) keys.push("");
      pos = 2;
      continue;
    }
    if (pos !== 0) keys.push("");
    keys[keys.length - 1] += ch;
    pos = 0;
  }
  return keys;
}

export type TreeNode<T> = T | T[] | Tree<T>;
export interface Tree<T> {
  [key: string]: TreeNode<T>;
}

/** Thrown when a key is used both as a value and as a branch; RoadRunner fails the request. */
export class FormTreeError extends Error {
  override name = "FormTreeError";
}

function isTree<T>(node: TreeNode<T> | undefined, isLeaf: (n: unknown) => n is T): node is Tree<T> {
  return node !== undefined && !Array.isArray(node) && !isLeaf(node);
}

/**
 * Mount the values of one form key. `single` picks the value for a plain key (data: the last one,
 * files: the first one); `isEmpty` tells values that never clobber existing data.
 */
export function mountFormKey<T>(
  tree: Tree<T>,
  key: string,
  values: T[],
  single: (values: T[]) => T,
  isLeaf: (n: unknown) => n is T,
  isEmpty: (value: T) => boolean,
): void {
  const segments = formKeySegments(key);
  if (segments.length > MAX_LEVEL || values.length === 0) return;
  let node = tree;
  for (let i = 0; i < segments.length; i++) {
    const name = segments[i];
    const rest = segments.length - i;
    if (rest === 1 || (rest === 2 && segments[i + 1] === "")) {
      const value: TreeNode<T> = rest === 1 ? single(values) : values;
      const existing = node[name];
      if (isTree(existing, isLeaf) && Object.keys(existing).length > 0) {
        if (rest === 1 && isEmpty(value as T)) return;
        throw new FormTreeError(`invalid multiple values to key '${key}' in tree`);
      }
      node[name] = value;
      return;
    }
    const existing = node[name];
    if (existing === undefined || (isLeaf(existing) && isEmpty(existing))) {
      const child: Tree<T> = {};
      node[name] = child;
      node = child;
    } else if (isTree(existing, isLeaf)) {
      node = existing;
    } else {
      throw new FormTreeError(`invalid multiple values to key '${key}' in tree`);
    }
  }
}

const isString = (n: unknown): n is string => typeof n === "string";

/** Build the data tree from grouped form values (key → all its values, in order). */
export function buildDataTree(fields: Map<string, string[]>): Tree<string> {
  const tree: Tree<string> = {};
  for (const [key, values] of fields) {
    mountFormKey(tree, key, values, (v) => v[v.length - 1], isString, (v) => v === "");
  }
  return tree;
}
