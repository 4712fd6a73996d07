// The IVR flow as JSON (crates/ivr/src/model.rs): `Flow {schema, start, settings, nodes}`, nodes with a
// kind and the kind's fields flattened in. An unconnected branch is the empty string.

export const SCHEMA = 1;

export type NodeId = string;

export interface Settings {
  language: string;
  max_steps_without_input: number;
  fallback_queue: string;
}

export interface Position {
  x: number;
  y: number;
}

export type PromptRef = { prompt: string } | { text: string };

export type SayAs = 'number' | 'money' | 'date' | 'digits' | 'status' | 'text';
export const SAY_AS: SayAs[] = ['number', 'money', 'date', 'digits', 'status', 'text'];

export type SayPart = { prompt: string } | { text: string } | { var: string; as: SayAs };

export type DigitsRule = 'any' | 'customer_no' | 'order_no' | 'phone';
export const DIGITS_RULES: DigitsRule[] = ['any', 'customer_no', 'order_no', 'phone'];

export type IdentifyBy = 'caller_id_then_entry' | 'caller_id' | 'entry';
export const IDENTIFY_BY: IdentifyBy[] = ['caller_id_then_entry', 'caller_id', 'entry'];

export type TransferTarget =
  | { to: 'queue'; queue: string; priority?: number }
  | { to: 'extension'; extension: string }
  | { to: 'site'; site: string }
  | { to: 'external'; number: string };

export type MessageChannel = 'fax' | 'sms' | 'email';
export const CHANNELS: MessageChannel[] = ['fax', 'sms', 'email'];

export type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'set' | 'unset';
export const OPS: Op[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'set', 'unset'];

export interface Rule {
  var: string;
  op: Op;
  value?: string;
  next: NodeId;
}

export type OrderBy = 'order_no' | 'customer';

export interface PlayKind {
  kind: 'play';
  prompts: PromptRef[];
  interruptible?: boolean;
  next: NodeId;
}
export interface MenuKind {
  kind: 'menu';
  prompts: PromptRef[];
  options: Record<string, NodeId>;
  timeout_secs?: number;
  retries?: number;
  invalid_prompts?: PromptRef[];
  timeout_prompts?: PromptRef[];
  on_fail: NodeId;
}
export interface CollectKind {
  kind: 'collect';
  prompts: PromptRef[];
  var: string;
  min_len?: number;
  max_len: number;
  terminator?: string | null;
  timeout_secs?: number;
  inter_digit_secs?: number;
  rule?: DigitsRule;
  retries?: number;
  invalid_prompts?: PromptRef[];
  next: NodeId;
  on_fail: NodeId;
}
export interface IdentifyKind {
  kind: 'identify';
  by: IdentifyBy;
  entry_prompts?: PromptRef[];
  confirm_digits?: number;
  confirm_prompts?: PromptRef[];
  invalid_prompts?: PromptRef[];
  retries?: number;
  next: NodeId;
  on_fail: NodeId;
}
export interface SayKind {
  kind: 'say';
  parts: SayPart[];
  next: NodeId;
}
export interface RecordKind {
  kind: 'record';
  prompts: PromptRef[];
  var?: string;
  max_secs?: number;
  silence_secs?: number;
  beep?: boolean;
  next: NodeId;
  on_empty: NodeId;
}
export interface CreateWorkOrderKind {
  kind: 'create_work_order';
  order_type: string;
  priority?: string;
  title: string;
  description?: string;
  attach?: string;
  fields?: Record<string, string>;
  sms?: boolean;
  next: NodeId;
  on_fail: NodeId;
}
export interface OrderStatusKind {
  kind: 'order_status';
  by: OrderBy;
  var?: string;
  next: NodeId;
  not_found: NodeId;
}
export interface SendDocumentKind {
  kind: 'send_document';
  channel: MessageChannel;
  document: string;
  to_var?: string;
  next: NodeId;
  on_fail: NodeId;
}
export interface HoursKind {
  kind: 'hours';
  calendar: string;
  open: NodeId;
  closed: NodeId;
}
export interface ConditionKind {
  kind: 'condition';
  rules: Rule[];
  otherwise: NodeId;
}
export interface SetKind {
  kind: 'set';
  values: Record<string, string>;
  next: NodeId;
}
export interface TransferKind {
  kind: 'transfer';
  target: TransferTarget;
  timeout_secs?: number;
  after?: NodeId | null;
  on_fail: NodeId;
}
export interface SurveyKind {
  kind: 'survey';
  prompts: PromptRef[];
  max?: number;
  retries?: number;
  invalid_prompts?: PromptRef[];
  next: NodeId;
  on_fail: NodeId;
}
export interface HangupKind {
  kind: 'hangup';
  prompts?: PromptRef[];
}

export type NodeKind =
  | PlayKind
  | MenuKind
  | CollectKind
  | IdentifyKind
  | SayKind
  | RecordKind
  | CreateWorkOrderKind
  | OrderStatusKind
  | SendDocumentKind
  | HoursKind
  | ConditionKind
  | SetKind
  | TransferKind
  | SurveyKind
  | HangupKind;

export type KindName = NodeKind['kind'];

export type IvrNode = NodeKind & {
  id: NodeId;
  label?: string;
  position?: Position;
};

export interface Flow {
  schema: number;
  start: NodeId;
  settings: Settings;
  nodes: IvrNode[];
}

/** The palette's order. */
export const KINDS: KindName[] = [
  'play',
  'menu',
  'collect',
  'identify',
  'say',
  'record',
  'create_work_order',
  'order_status',
  'send_document',
  'hours',
  'condition',
  'set',
  'transfer',
  'survey',
  'hangup',
];

export const DEFAULT_SETTINGS: Settings = { language: 'zh-CN', max_steps_without_input: 50, fallback_queue: 'general' };

export function emptyFlow(): Flow {
  return { schema: SCHEMA, start: '', settings: { ...DEFAULT_SETTINGS }, nodes: [] };
}

/** A new node of a kind with its defaults, branches unconnected. */
export function newNodeKind(kind: KindName): NodeKind {
  switch (kind) {
    case 'play':
      return { kind, prompts: [{ text: '' }], interruptible: true, next: '' };
    case 'menu':
      return { kind, prompts: [{ text: '' }], options: { '1': '' }, timeout_secs: 5, retries: 2, invalid_prompts: [], timeout_prompts: [], on_fail: '' };
    case 'collect':
      return { kind, prompts: [{ text: '' }], var: 'digits', min_len: 1, max_len: 20, terminator: '#', timeout_secs: 5, inter_digit_secs: 3, rule: 'any', retries: 2, invalid_prompts: [], next: '', on_fail: '' };
    case 'identify':
      return { kind, by: 'caller_id_then_entry', entry_prompts: [{ text: '' }], confirm_digits: 0, confirm_prompts: [], invalid_prompts: [], retries: 2, next: '', on_fail: '' };
    case 'say':
      return { kind, parts: [{ text: '' }], next: '' };
    case 'record':
      return { kind, prompts: [{ text: '' }], var: 'recording', max_secs: 60, silence_secs: 4, beep: true, next: '', on_empty: '' };
    case 'create_work_order':
      return { kind, order_type: '', priority: '', title: '', description: '', attach: '', fields: {}, sms: true, next: '', on_fail: '' };
    case 'order_status':
      return { kind, by: 'customer', var: '', next: '', not_found: '' };
    case 'send_document':
      return { kind, channel: 'sms', document: '', to_var: '', next: '', on_fail: '' };
    case 'hours':
      return { kind, calendar: '', open: '', closed: '' };
    case 'condition':
      return { kind, rules: [{ var: '', op: 'eq', value: '', next: '' }], otherwise: '' };
    case 'set':
      return { kind, values: {}, next: '' };
    case 'transfer':
      return { kind, target: { to: 'queue', queue: '', priority: 0 }, timeout_secs: 30, after: null, on_fail: '' };
    case 'survey':
      return { kind, prompts: [{ text: '' }], max: 5, retries: 2, invalid_prompts: [], next: '', on_fail: '' };
    case 'hangup':
      return { kind, prompts: [] };
  }
}

/** The branches of a node in order (NodeKind::branches): name and target ('' = unconnected). */
export function branches(n: NodeKind): [string, NodeId][] {
  switch (n.kind) {
    case 'play':
    case 'say':
    case 'set':
      return [['next', n.next]];
    case 'menu':
      return [...sortedKeys(n.options).map((k): [string, NodeId] => [k, n.options[k]]), ['on_fail', n.on_fail]];
    case 'collect':
    case 'identify':
    case 'create_work_order':
    case 'send_document':
    case 'survey':
      return [
        ['next', n.next],
        ['on_fail', n.on_fail],
      ];
    case 'record':
      return [
        ['next', n.next],
        ['on_empty', n.on_empty],
      ];
    case 'order_status':
      return [
        ['next', n.next],
        ['not_found', n.not_found],
      ];
    case 'hours':
      return [
        ['open', n.open],
        ['closed', n.closed],
      ];
    case 'condition':
      return [...n.rules.map((r, i): [string, NodeId] => [`rule:${i}`, r.next]), ['otherwise', n.otherwise]];
    case 'transfer':
      // `after` is optional; the designer always offers its handle (unset = null).
      return [
        ['after', n.after ?? ''],
        ['on_fail', n.on_fail],
      ];
    case 'hangup':
      return [];
  }
}

/** Menu keys in the order of the Rust BTreeMap (byte order). */
export function sortedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Sets a branch of a node; returns the new node. */
export function setBranch<T extends IvrNode>(n: T, branch: string, target: NodeId): T {
  const c = structuredClone(n) as IvrNode;
  switch (c.kind) {
    case 'menu':
      if (branch === 'on_fail') c.on_fail = target;
      else c.options[branch] = target;
      break;
    case 'condition':
      if (branch === 'otherwise') c.otherwise = target;
      else {
        const i = Number(branch.split(':')[1]);
        if (c.rules[i]) c.rules[i].next = target;
      }
      break;
    case 'transfer':
      if (branch === 'after') c.after = target || null;
      else c.on_fail = target;
      break;
    default:
      (c as unknown as Record<string, unknown>)[branch] = target;
  }
  return c as T;
}

/** Whether a branch is an error branch (drawn red). */
export function isErrorBranch(b: string): boolean {
  return ['on_fail', 'on_empty', 'not_found', 'closed'].includes(b);
}

/** Every node that names `id` in a branch gets the branch cleared (when `id` is deleted). */
export function disconnectTarget(flow: Flow, id: NodeId): Flow {
  return {
    ...flow,
    start: flow.start === id ? '' : flow.start,
    nodes: flow.nodes
      .filter((n) => n.id !== id)
      .map((n) => {
        let m = n;
        for (const [b, t] of branches(n)) if (t === id) m = setBranch(m, b, '');
        return m;
      }),
  };
}

/** A fresh node id: `<kind>_<n>`, not yet used. */
export function freshId(flow: Flow, kind: KindName): NodeId {
  const used = new Set(flow.nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${kind}_${i}`;
    if (!used.has(id)) return id;
  }
}

/** Renames a node and every reference to it. */
export function renameNode(flow: Flow, from: NodeId, to: NodeId): Flow {
  return {
    ...flow,
    start: flow.start === from ? to : flow.start,
    nodes: flow.nodes.map((n) => {
      let m: IvrNode = n.id === from ? { ...n, id: to } : n;
      for (const [b, t] of branches(m)) if (t === from) m = setBranch(m, b, to);
      return m;
    }),
  };
}

export function promptsOf(n: NodeKind): PromptRef[] {
  switch (n.kind) {
    case 'play':
    case 'record':
    case 'survey':
    case 'collect':
    case 'menu':
      return n.prompts;
    case 'hangup':
      return n.prompts ?? [];
    case 'identify':
      return n.entry_prompts ?? [];
    default:
      return [];
  }
}

/** One-line summary of what a node does (shown on the canvas). */
export function summary(n: NodeKind): string {
  const p = (ps: PromptRef[] | undefined) =>
    (ps ?? []).map((x) => ('prompt' in x ? `[${x.prompt}]` : x.text)).join(' ');
  switch (n.kind) {
    case 'play':
    case 'menu':
    case 'collect':
    case 'record':
    case 'survey':
      return p(n.prompts);
    case 'hangup':
      return p(n.prompts);
    case 'identify':
      return n.by;
    case 'say':
      return n.parts.map((x) => ('prompt' in x ? `[${x.prompt}]` : 'text' in x ? x.text : `\${${x.var}}`)).join(' ');
    case 'create_work_order':
      return `${n.order_type} ${n.title}`.trim();
    case 'order_status':
      return n.by === 'order_no' ? `${n.by} \${${n.var ?? ''}}` : n.by;
    case 'send_document':
      return `${n.channel}: ${n.document}`;
    case 'hours':
      return n.calendar;
    case 'condition':
      return n.rules.map((r) => `${r.var} ${r.op} ${r.value ?? ''}`.trim()).join('; ');
    case 'set':
      return Object.entries(n.values)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
    case 'transfer': {
      const t = n.target;
      const v = t.to === 'queue' ? t.queue : t.to === 'extension' ? t.extension : t.to === 'site' ? t.site : t.number;
      return `${t.to}: ${v}`;
    }
  }
}

/** The node without designer-only noise, ready for JSON (positions rounded). */
export function normalizeFlow(flow: Flow): Flow {
  return {
    ...flow,
    nodes: flow.nodes.map((n) => ({
      ...n,
      position: n.position ? { x: Math.round(n.position.x), y: Math.round(n.position.y) } : { x: 0, y: 0 },
    })),
  };
}

/** What changed between two versions: nodes added, removed, changed (with the changed fields). */
export interface FlowDiff {
  added: IvrNode[];
  removed: IvrNode[];
  changed: { id: NodeId; fields: { field: string; before: unknown; after: unknown }[] }[];
  flow: { field: string; before: unknown; after: unknown }[];
}

export function diffFlows(a: Flow, b: Flow): FlowDiff {
  const am = new Map(a.nodes.map((n) => [n.id, n]));
  const bm = new Map(b.nodes.map((n) => [n.id, n]));
  const out: FlowDiff = { added: [], removed: [], changed: [], flow: [] };
  for (const n of b.nodes) if (!am.has(n.id)) out.added.push(n);
  for (const n of a.nodes) if (!bm.has(n.id)) out.removed.push(n);
  for (const n of a.nodes) {
    const m = bm.get(n.id);
    if (!m) continue;
    const keys = new Set([...Object.keys(n), ...Object.keys(m)]);
    const fields: FlowDiff['changed'][number]['fields'] = [];
    for (const k of keys) {
      if (k === 'position') continue;
      const x = (n as unknown as Record<string, unknown>)[k];
      const y = (m as unknown as Record<string, unknown>)[k];
      if (JSON.stringify(x) !== JSON.stringify(y)) fields.push({ field: k, before: x, after: y });
    }
    if (fields.length) out.changed.push({ id: n.id, fields });
  }
  if (a.start !== b.start) out.flow.push({ field: 'start', before: a.start, after: b.start });
  if (JSON.stringify(a.settings) !== JSON.stringify(b.settings))
    out.flow.push({ field: 'settings', before: a.settings, after: b.settings });
  return out;
}
