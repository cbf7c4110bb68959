/**
 * The Node-RED editor as an integrator meets it: nodes created the way the
 * palette creates them (every default filled in, config references pointed
 * at the one config node of that type), their edit dialogs opened, and what
 * the dialog shows checked for what a user must never see: raw translation
 * keys, validation errors on defaults, clipped drop-downs, empty hint boxes,
 * config nodes shown by their type name.
 */
import type { Page } from 'playwright-core';

/** A translation key as RED._ returns it when the catalogue was not found. */
export const RAW_KEY = /(^|[^\w/.-])(@energy-rtu\/[\w-]+\/[\w-]+:)?rtu-[a-z0-9-]+\.[a-zA-Z0-9_]+\.[a-zA-Z0-9_.]+/;

/** Sets the editor language before the editor loads (what the language menu stores). */
export async function useEditorLanguage(page: Page, lang: string): Promise<void> {
  await page.addInitScript((l) => window.localStorage.setItem('editor-language', l), lang);
}

/** Creates a node of `type` as the palette does and returns its id; config nodes are created in the global scope. */
export async function createWithDefaults(page: Page, type: string, extra: Record<string, unknown> = {}): Promise<string> {
  return page.evaluate(
    ({ t, extra }) => {
      const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
      const def = RED.nodes.getType(t);
      const id = RED.nodes.id();
      const n: Record<string, unknown> = { id, type: t };
      if (def.category !== 'config') Object.assign(n, { z: RED.workspaces.active(), x: 300, y: 100 + Math.random() * 500, wires: [] });
      for (const d of Object.keys(def.defaults ?? {})) {
        const spec = def.defaults[d];
        if (spec.type) {
          const found: string[] = [];
          RED.nodes.eachConfig((c: { type: string; id: string }) => {
            if (c.type === spec.type) found.push(c.id);
          });
          n[d] = found.length === 1 ? found[0] : '';
        } else if (spec.value !== undefined) n[d] = JSON.parse(JSON.stringify(spec.value));
      }
      Object.assign(n, extra);
      RED.nodes.import([n]);
      return id;
    },
    { t: type, extra },
  );
}

/** Opens the edit dialog of an existing node (or config node) and waits until it is shown. */
export async function openDialog(page: Page, id: string): Promise<'config' | 'node'> {
  const kind = await page.evaluate((nid) => {
    const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
    const n = RED.nodes.node(nid);
    if (!n) throw new Error(`no node ${nid}`);
    if (n._def.category === 'config') {
      RED.editor.editConfig('', n.type, n.id);
      return 'config';
    }
    RED.editor.edit(n);
    return 'node';
  }, id);
  const form = kind === 'config' ? '#node-config-dialog-edit-form' : '#dialog-form';
  await page.waitForSelector(`.red-ui-tray ${form}`, { timeout: 10000 });
  // Dialogs fill their lists from admin endpoints: wait until no request is pending.
  await page.waitForFunction(() => (window as unknown as { $: { active: number } }).$.active === 0, undefined, { timeout: 10000 });
  return kind;
}

export async function closeDialog(page: Page, kind: 'config' | 'node'): Promise<void> {
  await page.click(kind === 'config' ? '#node-config-dialog-cancel' : '#node-dialog-cancel');
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10000 });
}

/** What the open (topmost) dialog shows that it must not. */
export async function dialogProblems(page: Page): Promise<string[]> {
  return page.evaluate((rawKey) => {
    const RAW = new RegExp(rawKey);
    const problems: string[] = [];
    const trays = Array.from(document.querySelectorAll<HTMLElement>('.red-ui-tray'));
    const tray = trays[trays.length - 1];
    const visible = (el: Element) => {
      const h = el as HTMLElement;
      if (!h.offsetParent && getComputedStyle(h).position !== 'fixed') return false;
      const r = h.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const title = tray.querySelector('.red-ui-tray-titlebar')?.textContent?.trim() ?? '';
    if (/\brtu-[a-z0-9-]+\b/.test(title)) problems.push(`title shows a type name: "${title}"`);
    const walker = document.createTreeWalker(tray, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent ?? '';
      const el = n.parentElement;
      if (el && RAW.test(text) && (visible(el) || el.tagName === 'OPTION')) problems.push(`raw key in text: "${text.trim()}"`);
    }
    for (const el of Array.from(tray.querySelectorAll<HTMLElement>('[placeholder], [title], [aria-label]'))) {
      for (const attr of ['placeholder', 'title', 'aria-label']) {
        const v = el.getAttribute(attr);
        if (v && RAW.test(v)) problems.push(`raw key in ${attr}: "${v}"`);
      }
    }
    for (const el of Array.from(tray.querySelectorAll<HTMLElement>('.input-error'))) {
      if (visible(el)) problems.push(`validation error shown on #${el.id || el.className}`);
    }
    // Rows shared between dialogs (resources/rtu-editor.js) left as their placeholder: the form lacks them.
    for (const el of Array.from(tray.querySelectorAll<HTMLElement>('[data-rtu-section]'))) {
      problems.push(`shared rows not expanded: ${el.getAttribute('data-rtu-section')}`);
    }
    // Hint boxes and result panes that are shown with nothing in them (grey boxes).
    for (const el of Array.from(tray.querySelectorAll<HTMLElement>('.form-tips, pre'))) {
      if (visible(el) && (el.textContent ?? '').trim() === '' && !el.querySelector('img, svg, i')) problems.push(`empty box shown: #${el.id || el.className}`);
    }
    // A drop-down narrower than its chosen option's text.
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d')!;
    for (const sel of Array.from(tray.querySelectorAll<HTMLSelectElement>('select'))) {
      if (!visible(sel) || sel.selectedIndex < 0) continue;
      // Node-RED's own "Add new <type>..." entry of a config-node select is the core's text and width.
      if (sel.options[sel.selectedIndex].value === '_ADD_') continue;
      const style = getComputedStyle(sel);
      ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const text = sel.options[sel.selectedIndex].text;
      const room = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
      const needed = ctx.measureText(text).width;
      if (needed > room + 1) problems.push(`drop-down #${sel.id || sel.className} cuts "${text}" (${Math.round(needed)} px in ${Math.round(room)} px)`);
    }
    // Port labels (the tooltips of a node's ports).
    return problems;
  }, RAW_KEY.source);
}

/** Port tooltips, palette labels and node labels of every type, checked for raw keys. */
export async function labelProblems(page: Page, types: string[]): Promise<string[]> {
  return page.evaluate(
    ({ types, rawKey }) => {
      const RAW = new RegExp(rawKey);
      const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
      const problems: string[] = [];
      for (const t of types) {
        const def = RED.nodes.getType(t);
        if (!def) continue;
        const node: Record<string, unknown> = { type: t, _def: def, _: def._ };
        for (const d of Object.keys(def.defaults ?? {})) node[d] = def.defaults[d].value;
        const texts: Array<[string, unknown]> = [];
        const pl = typeof def.paletteLabel === 'function' ? def.paletteLabel.call(def) : def.paletteLabel;
        texts.push(['palette label', pl ?? t]);
        if (def.category === 'config' && pl === undefined) problems.push(`${t}: no palette label (dialogs would say "${t}")`);
        for (const [what, fn, count] of [
          ['input label', def.inputLabels, def.inputs ?? 0],
          ['output label', def.outputLabels, def.outputs ?? 0],
        ] as Array<[string, unknown, number]>) {
          for (let i = 0; i < count; i++) texts.push([`${what} ${i}`, typeof fn === 'function' ? fn.call(node, i) : fn]);
        }
        texts.push(['node label', typeof def.label === 'function' ? def.label.call(node) : def.label]);
        for (const [what, v] of texts) if (typeof v === 'string' && RAW.test(v)) problems.push(`${t}: raw key as ${what}: "${v}"`);
      }
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('#red-ui-palette-container-RTU .red-ui-palette-label'))) {
        if (RAW.test(el.textContent ?? '')) problems.push(`palette shows "${el.textContent}"`);
      }
      return problems;
    },
    { types, rawKey: RAW_KEY.source },
  );
}

/** Every node in the workspace the editor marks invalid, with the properties at fault. */
export async function invalidNodes(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
    const out: string[] = [];
    const check = (n: { id: string; type: string; valid?: boolean; validationErrors?: string[]; name?: string }) => {
      if (!n.type.startsWith('rtu-')) return;
      RED.editor.validateNode(n);
      if (n.valid === false) out.push(`${n.type} ${n.name || n.id}: invalid (${(n.validationErrors ?? []).join(', ')})`);
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    return out;
  });
}
