/**
 * The configuration file as YAML: its value, its syntax errors, and where each key and value
 * sits (1-based line and column), found by the key path of a problem.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLParseError } from 'yaml';
import type { KeyPath } from './key-path.js';

export interface LineColumn {
  line: number;
  column: number;
}

/** Point at the key of a map entry (unknown or misplaced keys) or at its value (wrong values). */
export type Anchor = 'key' | 'value';

export interface SyntaxProblem extends LineColumn {
  message: string;
}

export interface YamlSource {
  /** The plain value (maps, lists, scalars); undefined when the file holds no document. */
  value: unknown;
  syntaxProblems: SyntaxProblem[];
  /**
   * Where `path` is. A path that does not exist (a missing key) ends at the deepest part that
   * does: the key of the map it is missing from.
   */
  position(path: KeyPath, anchor: Anchor): LineColumn;
}

export function readYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): LineColumn => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntaxProblems = doc.errors.map((error) => ({ ...at(error.pos[0]), message: syntaxMessage(error, text) }));
  return {
    value: syntaxProblems.length > 0 || doc.contents === null ? undefined : (doc.toJS({ maxAliasCount: 1000 }) as unknown),
    syntaxProblems,
    position: (path, anchor) => at(locate(doc, path, anchor)),
  };
}

function start(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}

/** The offset of `path`'s key or value, or of the deepest existing part of it. */
function locate(doc: Document, path: KeyPath, anchor: Anchor): number {
  let node: unknown = doc.contents;
  let keyOffset = start(doc.contents) ?? 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
      if (pair === undefined) return keyOffset;
      keyOffset = start(isScalar(pair.key) ? pair.key : undefined) ?? keyOffset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) return keyOffset;
      keyOffset = start(item as Node) ?? keyOffset;
      node = item;
    } else {
      return keyOffset;
    }
  }
  if (anchor === 'key') return keyOffset;
  return start(node as Node | null) ?? keyOffset;
}

/** yaml's message, in words that say what to change for the common ones. */
function syntaxMessage(error: YAMLParseError, text: string): string {
  switch (error.code) {
    case 'TAB_AS_INDENT':
      return 'YAML syntax: a tab is used for indentation (YAML indents with spaces only)';
    case 'DUPLICATE_KEY':
      return `YAML syntax: the key ${JSON.stringify(keyText(text, error.pos))} appears twice in the same map`;
    case 'MULTIPLE_DOCS':
      return 'YAML syntax: a second document ("---"); the configuration is one document';
    default:
      return `YAML syntax: ${error.message}`;
  }
}

function keyText(text: string, [from]: [number, number]): string {
  const line = text.slice(from).split('\n')[0] ?? '';
  return line.replace(/:.*$/, '').trim();
}
