/**
 * Node editor files as the editor sees them: the shared editor code
 * (resources/rtu-editor.js) is loaded before each node's own scripts, and the
 * rows it shares between dialogs are expanded into the node's template.
 */
import fs from 'fs';
import path from 'path';
import vm from 'vm';

const root = path.resolve(__dirname, '..', '..', '..');

/** A VM context with `globals` and RTU_EDITOR, for running a node html's scripts. */
export function editorContext(globals: Record<string, unknown>): vm.Context {
  const context = vm.createContext({ ...globals });
  const file = path.join(root, 'resources', 'rtu-editor.js');
  vm.runInContext(fs.readFileSync(file, 'utf8'), context, { filename: file });
  return context;
}

/** The node's editor html with the shared rows expanded into its template. */
export function expandedEditorHtml(type: string): string {
  const html = fs.readFileSync(path.join(root, 'nodes', type, `${type}.html`), 'utf8');
  const editor = editorContext({}).RTU_EDITOR as { expandMarkup: (type: string, html: string) => string };
  return editor.expandMarkup(type, html);
}
