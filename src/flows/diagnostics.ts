import { LineCounter, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';

/** One finding of the validator, at a place in a file. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `flows/order.yml:14:11 unknown step "confrim" (did you mean "confirm"?)` */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

/** A parsed YAML file that can say where any path in it is. */
export class SourceMap {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Line and column (1-based) of the value at `path`, or of its nearest existing parent; `key: true` points at the key itself. */
  position(path: (string | number)[], options: { key?: boolean } = {}): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let offset = (this.doc.contents as Node | null)?.range?.[0] ?? 0;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === segment);
        if (!pair) break;
        const keyNode = pair.key as Node;
        const valueNode = pair.value as Node | null;
        offset = options.key && segment === path[path.length - 1] ? (keyNode.range?.[0] ?? offset) : (valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset);
        node = valueNode;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
        node = node.items[segment];
        offset = (node as Node).range?.[0] ?? offset;
      } else break;
    }
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** A diagnostic at `path` in this file. */
  at(path: (string | number)[], message: string, severity: Diagnostic['severity'] = 'error', options: { key?: boolean } = {}): Diagnostic {
    return { severity, file: this.file, ...this.position(path, options), message };
  }
}
