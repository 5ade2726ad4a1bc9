/**
 * Where in the YAML a problem lies, as the keys and list indexes leading to it, and how it is
 * written in messages: `jobs[2].connect.host`, `jobs[0].filesystems["pool/a<"]`.
 */

export type KeyPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** True when `path` is `prefix` or lies below it. */
export function isAtOrBelowPath(path: KeyPath, prefix: KeyPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => path[index] === segment);
}
