import path from 'node:path';
import { builtinActions } from '../bot/builtin-actions';
import { loadFlowLibrary, type FlowPaths } from '../flows/flow-library';
import { formatDiagnostics } from '../flows/validate-flows';

/** The cooperative's files as the server reads them: flows/, locales/ beside it, flows/catalog.yml. */
export function flowPaths(root: string, flowsDir?: string): FlowPaths {
  const flows = path.resolve(flowsDir ?? path.join(root, 'flows'));
  return { flowsDir: flows, localesDir: path.join(root, 'locales'), catalogFile: path.join(flows, 'catalog.yml') };
}

/** `flows validate [dir]`: prints every error and warning with its position, or one line per valid flow; returns the exit code. */
export function validateCommand(root: string, dir: string | undefined, print: (line: string) => void = console.log): number {
  const paths = flowPaths(root, dir);
  const { library, diagnostics } = loadFlowLibrary(paths, builtinActions());
  for (const line of formatDiagnostics(diagnostics)) print(line);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (!library) {
    print(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: the flows were not loaded`);
    return 1;
  }
  for (const flow of library.flows.values()) {
    const t = flow.triggers;
    const keywords = Object.values(t.keywords).reduce((n, words) => n + (words?.length ?? 0), 0);
    print(`ok  ${flow.file}  ${flow.id}: ${flow.steps.length} steps; triggers: ${t.intents.length} intents, ${keywords} keywords, ${t.payloads.length} payloads`);
  }
  print(`${library.flows.size} flows valid${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`);
  return 0;
}
