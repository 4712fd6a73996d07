// A typed client of the ACD API (docs/acd.md, issue 6): agents and their state, the agent's calls and
// call control, supervisors' forcing and listening, the wallboard, tasks, recordings and call records.
// Optional look-ups that a role may not be allowed (queues, recordings, call records) are `quiet`: a
// 403 there must not replace the whole page with the 403 page.
import { API_BASE, request, type Page, type Query } from '../api';

export type AgentStateName = 'logged_out' | 'ready' | 'not_ready' | 'reserved' | 'on_call' | 'wrap_up';

export const AGENT_STATES: AgentStateName[] = ['logged_out', 'ready', 'not_ready', 'reserved', 'on_call', 'wrap_up'];

/** An agent's live state (`state` of `GET /agents/me`, of a CTI `state` message, a wallboard agent). */
export interface AgentState {
  id?: string;
  name?: string;
  extension?: string | null;
  state: AgentStateName;
  reason?: string | null;
  call_id?: string | null;
  queue?: string | null;
  since?: string | null;
  until?: string | null;
  /** A not-ready reason asked for while busy, applied after the wrap-up. */
  pending?: string | null;
  phone?: string | null;
  queues?: string[];
  calls_handled?: number;
  talk_secs?: number;
}

export interface Agent {
  id: string;
  user_id: string;
  username: string;
  display_name: string;
  extension?: string | null;
  skills: Record<string, number>;
  wrap_up_secs?: number | null;
  max_missed: number;
  auto_answer: boolean;
  enabled?: boolean;
  state: AgentState;
  phone?: string | null;
  queues?: string[];
}

/** The customer the IVR matched to the caller (screen pop). */
export interface CallCustomer {
  id?: string | null;
  no?: string | null;
  name?: string | null;
  phones?: string[] | null;
  address?: string | null;
  amount_due?: string | null;
}

/** One step of the IVR path: a node id, or `{id, label}`. */
export type IvrStep = string | { id?: string; node?: string; label?: string; kind?: string };

export type CallState = 'ringing' | 'talking' | 'held' | 'consulting' | 'conference';

export interface AgentCall {
  id: string;
  caller: string;
  customer?: CallCustomer | null;
  queue?: string | null;
  ivr_path?: IvrStep[];
  state: CallState;
  muted: boolean;
  recording: boolean;
  started_at?: string | null;
  answered_at?: string | null;
  legs?: number;
}

export interface Reason {
  code: string;
  zh: string;
  en: string;
  /** The agent may pick it (not `missed`, `forced`, `login`). */
  choosable?: boolean;
}

export type TargetKind = 'agent' | 'queue' | 'site' | 'extension' | 'external';
export const TARGET_KINDS: TargetKind[] = ['agent', 'queue', 'site', 'extension', 'external'];

export interface TransferTarget {
  kind: TargetKind;
  target: string;
}

export type CallAction =
  | 'answer'
  | 'hold'
  | 'resume'
  | 'mute'
  | 'unmute'
  | 'hangup'
  | 'dtmf'
  | 'recording'
  | 'transfer'
  | 'transfer-complete'
  | 'transfer-cancel'
  | 'conference';

export interface CallCommandBody {
  to?: TransferTarget;
  mode?: 'blind' | 'consult';
  digits?: string;
  paused?: boolean;
}

export type SuperviseMode = 'listen' | 'whisper' | 'barge';

export interface WallboardQueue {
  key: string;
  name: string;
  waiting: number;
  callbacks?: number;
  longest_wait_secs: number;
  offered?: number;
  answered?: number;
  abandoned?: number;
  /** Percent, 0-100 (kefu_acd::metrics). */
  service_level?: number;
  /** Percent, 0-100. */
  abandon_rate?: number;
  asa_secs?: number;
  aht_secs?: number;
  agents_ready: number;
  agents_busy: number;
  agents_logged_in?: number;
}

export interface WallboardAgent extends AgentState {
  id: string;
  name?: string;
  display_name?: string;
}

export interface Wallboard {
  queues: WallboardQueue[];
  agents: WallboardAgent[];
  at?: string;
}

export interface AgentTask {
  id: string;
  due_at: string;
  remind_at?: string | null;
  customer_id?: string | null;
  phone?: string | null;
  work_order_id?: string | null;
  note: string;
  done: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface NewTask {
  due_at: string;
  remind_at?: string;
  customer_id?: string;
  phone?: string;
  work_order_id?: string;
  note: string;
}

export interface TaskPatch {
  due_at?: string;
  remind_at?: string | null;
  note?: string;
  done?: boolean;
}

export interface Recording {
  id: string;
  call_id?: string | null;
  call_uuid?: string | null;
  customer_id?: string | null;
  agent_id?: string | null;
  agent_name?: string | null;
  caller?: string | null;
  started_at?: string | null;
  ended_at?: string | null;
  duration_ms?: number | null;
  bytes?: number | null;
  created_at?: string | null;
}

/** A call leg of `GET /calls` (crates/api/src/calls.rs). */
export interface CallRecord {
  id: string;
  call_id: string;
  call_uuid: string;
  direction: string;
  caller: string;
  callee: string;
  extension?: string | null;
  started_at: string;
  answered_at?: string | null;
  ended_at: string;
  duration_ms: number;
  billable_ms: number;
  disposition: string;
  hangup_cause: string;
  hangup_side: string;
  recording_path?: string | null;
}

export interface QueueInfo {
  key: string;
  name: string;
  active?: boolean;
}

/** A list the server may send bare or as a page. */
function items<T>(x: T[] | Page<T> | null | undefined): T[] {
  if (!x) return [];
  return Array.isArray(x) ? x : (x.items ?? []);
}

const enc = encodeURIComponent;

export const acdApi = {
  me: () => request<Agent>('GET', '/agents/me', { quiet: true }),
  myCalls: () => request<AgentCall[]>('GET', '/agents/me/calls', { quiet: true }).then((x) => x ?? []),
  agents: () => request<Agent[]>('GET', '/agents', { quiet: true }),
  reasons: () => request<Reason[]>('GET', '/acd/reasons', { quiet: true }),
  login: (body: { phone?: string; queues?: string[]; ready?: boolean }) =>
    request<AgentState>('POST', '/agents/me/login', { body }),
  logout: () => request<AgentState>('POST', '/agents/me/logout'),
  setState: (state: 'ready' | 'not_ready', reason?: string) =>
    request<AgentState>('POST', '/agents/me/state', { body: reason ? { state, reason } : { state } }),
  forceState: (agentId: string, state: 'ready' | 'not_ready' | 'logged_out') =>
    request<AgentState>('POST', `/agents/${enc(agentId)}/state`, { body: { state } }),
  command: (callId: string, action: CallAction, body?: CallCommandBody) =>
    request<AgentCall | Record<string, unknown>>('POST', `/agent-calls/${enc(callId)}/${action}`, { body: body ?? {} }),
  supervise: (callId: string, mode: SuperviseMode) =>
    request<{ call_id: string; mode: string; phone: string }>('POST', `/agent-calls/${enc(callId)}/${mode}`, { body: {} }),
  wallboard: (threshold?: number) => request<Wallboard>('GET', '/wallboard', { query: { threshold }, quiet: true }),
  tasks: () => request<AgentTask[] | Page<AgentTask>>('GET', '/agents/me/tasks', { quiet: true }).then(items),
  createTask: (t: NewTask) => request<AgentTask>('POST', '/agents/me/tasks', { body: t }),
  updateTask: (id: string, patch: TaskPatch) => request<AgentTask>('PATCH', `/agents/me/tasks/${enc(id)}`, { body: patch }),
  recordings: (q: { customer_id?: string; call_id?: string }) =>
    request<Recording[] | Page<Recording>>('GET', '/recordings', { query: q as Query, quiet: true }).then(items),
  calls: (q: { number?: string; caller?: string; page?: number; per_page?: number }) =>
    request<Page<CallRecord>>('GET', '/calls', { query: q as Query, quiet: true }),
  /** Needs `ivr.read` (supervisors); agents derive queues from the roster instead. */
  queues: () => request<QueueInfo[] | Page<QueueInfo>>('GET', '/queues', { quiet: true }).then(items),
};

export const acdUrls = {
  recordingAudio: (id: string) => `${API_BASE}/recordings/${enc(id)}/audio`,
  /** `ws:`/`wss:` on the page's own host. */
  cti: () => {
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${window.location.host}${API_BASE}/cti`;
  },
};

/** A service level or rate (the server sends percents, 0-100) to one decimal. */
export function pct(v: number | null | undefined): number | null {
  if (v === null || v === undefined || Number.isNaN(v)) return null;
  return Math.round(v * 10) / 10;
}

/** The agent's states that hold a call (a supervisor cannot force them). */
export function holdsCall(s: AgentStateName | string | undefined): boolean {
  return s === 'reserved' || s === 'on_call';
}

export function stepLabel(s: IvrStep): string {
  if (typeof s === 'string') return s;
  return s.label || s.id || s.node || s.kind || '?';
}
