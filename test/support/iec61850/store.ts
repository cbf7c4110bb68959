/**
 * The test server's variables: each logical node as an MMS structure FC → DO → DA,
 * addressed by MMS item names (`LN$FC$DO$DA`), with type lookup, reads that build
 * structures from leaves, and type-checked writes.
 */
import { selectValue } from '../../../nodes/lib/iec61850/alternate-access';
import { MmsValue } from '../../../nodes/lib/iec61850/mms-data';
import { VariableName } from '../../../nodes/lib/iec61850/mms-names';
import { TypeSpec } from '../../../nodes/lib/iec61850/mms-types';
import { ServerModel } from './model';

interface Node {
  name: string;
  children: Node[];
  /** Leaves only. */
  spec?: TypeSpec;
  key?: string;
}

export const ACCESS = { denied: 3, invalidAddress: 5, typeInconsistent: 7, nonExistent: 10, invalidated: 0 } as const;

/** FCs whose attributes a client may write. */
const WRITABLE = new Set(['CF', 'DC', 'SP', 'SE', 'SG', 'CO', 'RP', 'BR', 'EX']);

export class VariableStore {
  private readonly roots = new Map<string, Map<string, Node>>();
  readonly values = new Map<string, MmsValue>();

  constructor(readonly model: ServerModel) {
    for (const [domain, d] of model) {
      const lns = new Map<string, Node>();
      for (const [ln, leaves] of d.lns) {
        const root: Node = { name: ln, children: [] };
        for (const leaf of leaves) {
          let node = root;
          for (const part of [leaf.fc, ...leaf.path]) {
            let next = node.children.find((c) => c.name === part);
            if (!next) {
              next = { name: part, children: [] };
              node.children.push(next);
            }
            node = next;
          }
          node.spec = leaf.spec;
          node.key = `${domain}/${[ln, leaf.fc, ...leaf.path].join('$')}`;
          this.values.set(node.key, leaf.value);
        }
        lns.set(ln, root);
      }
      this.roots.set(domain, lns);
    }
  }

  domains(): string[] {
    return [...this.roots.keys()];
  }

  hasDomain(domain: string): boolean {
    return this.roots.has(domain);
  }

  /** Every variable name of a domain, sorted as MMS servers list them. */
  names(domain: string): string[] {
    const out: string[] = [];
    const walk = (n: Node, prefix: string): void => {
      out.push(prefix);
      n.children.forEach((c) => walk(c, `${prefix}$${c.name}`));
    };
    for (const [ln, root] of this.roots.get(domain) ?? []) walk(root, ln);
    return out.sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
  }

  private find(domain: string, item: string): Node | undefined {
    const [ln, ...rest] = item.split('$');
    let node = this.roots.get(domain)?.get(ln);
    for (const part of rest) node = node?.children.find((c) => c.name === part);
    return node;
  }

  typeOf(domain: string, item: string): TypeSpec | undefined {
    const node = this.find(domain, item);
    return node && specOf(node);
  }

  read(domain: string, item: string): MmsValue | number {
    const node = this.find(domain, item);
    return node ? this.valueOf(node) : ACCESS.nonExistent;
  }

  /** A variable of a request or data set, with its alternate access applied (invalid address when it does not fit). */
  readVariable(n: VariableName): MmsValue | number {
    if (n.scope !== 'domain') return ACCESS.nonExistent;
    const whole = this.read(n.domain, n.item);
    if (typeof whole === 'number' || !n.alternate?.length) return whole;
    return selectValue(whole, this.typeOf(n.domain, n.item), n.alternate) ?? ACCESS.invalidAddress;
  }

  private valueOf(n: Node): MmsValue {
    if (n.key) return this.values.get(n.key) as MmsValue;
    return { type: 'structure', value: n.children.map((c) => this.valueOf(c)) };
  }

  /** Leaf keys below (or at) an item, in structure order. */
  leafKeys(domain: string, item: string): string[] {
    const node = this.find(domain, item);
    const out: string[] = [];
    const walk = (n: Node): void => {
      if (n.key) out.push(n.key);
      n.children.forEach(walk);
    };
    if (node) walk(node);
    return out;
  }

  /** Checks and stores a value; returns a DataAccessError code when refused. */
  write(domain: string, item: string, value: MmsValue): number | undefined {
    const node = this.find(domain, item);
    if (!node) return ACCESS.nonExistent;
    const fc = item.split('$')[1];
    if (!WRITABLE.has(fc)) return ACCESS.denied;
    if (!matches(node, value)) return ACCESS.typeInconsistent;
    this.store(node, value);
    return undefined;
  }

  /** Sets a value from the test (no access checks); returns the leaf keys changed. */
  set(domain: string, item: string, value: MmsValue): string[] {
    const node = this.find(domain, item);
    if (!node) throw new Error(`test server: no variable ${domain}/${item}`);
    if (!matches(node, value)) throw new Error(`test server: ${value.type} does not fit ${domain}/${item}`);
    this.store(node, value);
    return this.leafKeys(domain, item);
  }

  private store(n: Node, value: MmsValue): void {
    if (n.key) {
      this.values.set(n.key, value);
      return;
    }
    if (value.type === 'structure') n.children.forEach((c, i) => this.store(c, value.value[i]));
  }
}

function specOf(n: Node): TypeSpec {
  if (n.spec) return n.spec;
  return { type: 'structure', components: n.children.map((c) => ({ name: c.name, spec: specOf(c) })) };
}

function matches(n: Node, value: MmsValue): boolean {
  if (!n.spec) return value.type === 'structure' && value.value.length === n.children.length && n.children.every((c, i) => matches(c, value.value[i]));
  const want = n.spec.type;
  if (want === 'integer' || want === 'unsigned') return value.type === 'integer' || value.type === 'unsigned';
  return want === value.type;
}
