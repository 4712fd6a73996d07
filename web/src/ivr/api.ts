// The IVR endpoints (docs/api.md, "IVR flows"): flows and their versions, validation, the catalog of
// what a flow may name, simulations, the funnel, prompts.
import { API_BASE, request } from '../api';
import type { Flow } from './model';

export interface IvrFlowSummary {
  id: string;
  key: string;
  name: string;
  description: string;
  published_version?: number | null;
  published_at?: string | null;
  latest_version?: number | null;
  created_at?: string;
  updated_at: string;
}

export interface IvrVersionSummary {
  version: number;
  note: string;
  created_by?: string | null;
  created_by_name?: string | null;
  created_at: string;
  nodes?: number;
  published?: boolean;
}

/** A version as exported (and imported): the flow's key, name and description with the graph. */
export interface FlowDocument {
  key: string;
  name: string;
  description?: string;
  version?: number | null;
  note?: string;
  created_at?: string | null;
  graph: Flow;
}

export interface ImportResult {
  flow: IvrFlowSummary;
  version: number;
  created: boolean;
}

export interface Issue {
  node?: string | null;
  field: string;
  code: string;
  message: string;
}

export interface KnownItem {
  key: string;
  name?: string;
}

export interface Known {
  queues: KnownItem[];
  extensions: KnownItem[];
  sites: KnownItem[];
  order_types: KnownItem[];
  calendars: KnownItem[];
  prompts: KnownItem[];
  documents: KnownItem[];
}

export interface FunnelNode {
  node_id: string;
  kind?: string;
  reached: number;
  passed: number;
  failed: number;
  left: number;
}

export interface Funnel {
  sessions?: number;
  version?: number | null;
  nodes: FunnelNode[];
  ends?: { reason: string; sessions: number }[];
}

export interface SimEvent {
  node?: string | null;
  kind: string;
  text: string;
}

export interface SimState {
  node?: string | null;
  waiting: 'digits' | 'none' | 'ended' | string;
  vars: Record<string, unknown>;
}

export interface Simulation {
  id: string;
  output: SimEvent[];
  state: SimState;
}

export type SimInput = { digits: string } | { timeout: true } | { hangup: true };

export interface Prompt {
  key: string;
  language: string;
  text: string;
  source: 'system' | 'custom' | string;
  has_audio: boolean;
  seconds?: number | null;
  /** The key is in the system catalog (deleting a recording goes back to the generated one). */
  system?: boolean;
  updated_at?: string | null;
}

const e = encodeURIComponent;

/** Lists may come bare or wrapped in `{items}`. */
function items<T>(x: T[] | { items: T[] }): T[] {
  return Array.isArray(x) ? x : (x?.items ?? []);
}

/** A catalog list may be strings or `{key, name}`. */
function knownList(x: unknown): KnownItem[] {
  if (!Array.isArray(x)) return [];
  return x.map((v) => (typeof v === 'string' ? { key: v } : (v as KnownItem)));
}

export const ivrApi = {
  flows: async () => items(await request<IvrFlowSummary[] | { items: IvrFlowSummary[] }>('GET', '/ivr/flows')),
  flow: (id: string) => request<IvrFlowSummary>('GET', `/ivr/flows/${e(id)}`),
  createFlow: (f: { key: string; name: string; description: string; graph?: Flow; note?: string }) =>
    request<IvrFlowSummary>('POST', '/ivr/flows', { body: f }),
  importFlow: (doc: FlowDocument) => request<ImportResult>('POST', '/ivr/flows/import', { body: doc }),
  versions: async (id: string) =>
    items(await request<IvrVersionSummary[] | { items: IvrVersionSummary[] }>('GET', `/ivr/flows/${e(id)}/versions`)),
  version: (id: string, v: number) => request<FlowDocument>('GET', `/ivr/flows/${e(id)}/versions/${v}`),
  saveVersion: (id: string, graph: Flow, note: string) =>
    request<IvrVersionSummary>('POST', `/ivr/flows/${e(id)}/versions`, { body: { graph, note } }),
  publish: (id: string, v: number) => request<IvrFlowSummary>('POST', `/ivr/flows/${e(id)}/versions/${v}/publish`),
  validate: async (graph: Flow) => {
    // The body is the graph itself.
    const r = await request<{ issues: Issue[] } | Issue[]>('POST', '/ivr/validate', { body: graph });
    return Array.isArray(r) ? r : (r.issues ?? []);
  },
  known: async (): Promise<Known> => {
    const r = await request<Record<string, unknown>>('GET', '/ivr/known');
    return {
      queues: knownList(r.queues),
      extensions: knownList(r.extensions),
      sites: knownList(r.sites),
      order_types: knownList(r.order_types),
      calendars: knownList(r.calendars),
      prompts: knownList(r.prompts),
      documents: knownList(r.documents),
    };
  },
  funnel: async (id: string, version?: number): Promise<Funnel> => {
    const r = await request<Funnel | FunnelNode[]>('GET', `/ivr/flows/${e(id)}/funnel`, { query: { version } });
    return Array.isArray(r) ? { nodes: r } : r;
  },
  simulate: (b: { flow_id: string; version?: number; graph?: Flow; caller: string }) =>
    request<Simulation>('POST', '/ivr/simulations', { body: b }),
  simInput: (id: string, input: SimInput) =>
    request<Simulation>('POST', `/ivr/simulations/${e(id)}/input`, { body: input }),
  prompts: async (language?: string) =>
    items(await request<Prompt[] | { items: Prompt[] }>('GET', '/ivr/prompts', { query: { language } })),
  createPrompt: (p: { key: string; language: string; text: string }) =>
    request<Prompt>('POST', '/ivr/prompts', { body: p }),
  uploadPromptAudio: (key: string, language: string, file: File) => {
    const fd = new FormData();
    fd.append('file', file, file.name);
    return request<Prompt>('PUT', `/ivr/prompts/${e(key)}/${e(language)}/audio`, { rawBody: fd });
  },
  resetPromptAudio: (key: string, language: string) =>
    request<void>('DELETE', `/ivr/prompts/${e(key)}/${e(language)}/audio`),
};

export const ivrUrls = {
  /** The version's export document as a file. */
  exportVersion: (id: string, v: number) => `${API_BASE}/ivr/flows/${e(id)}/versions/${v}?download=1`,
  promptAudio: (key: string, language: string, bust?: string | number) =>
    `${API_BASE}/ivr/prompts/${e(key)}/${e(language)}/audio${bust !== undefined ? `?v=${e(String(bust))}` : ''}`,
};
