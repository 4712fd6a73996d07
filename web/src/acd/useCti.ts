// The CTI client: one WebSocket on `/api/v1/cti` (docs/acd.md), reconnecting with back-off (1 s
// doubling to 30 s, with jitter). With `agent`, it keeps the signed-in agent (`GET /agents/me`) and its
// calls (`GET /agents/me/calls`) current from the events, and reads both again after a `seq` gap, a
// `resync` or a reconnect. With `wallboard`, it subscribes to the supervisors' feed.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api';
import { acdApi, acdUrls, type Agent, type AgentCall, type AgentState, type CallCustomer, type IvrStep, type Wallboard } from './api';

/** A server message: `type` plus what docs/acd.md lists for it; `seq` on events. */
export interface CtiMessage {
  type: string;
  seq?: number;
  call_id?: string;
  agent_id?: string | null;
  at?: string;
  [k: string]: unknown;
}

export interface HelloMessage extends CtiMessage {
  type: 'hello';
  state?: AgentState | null;
  calls?: AgentCall[];
}

export interface StateMessage extends CtiMessage {
  type: 'state';
  state: AgentState;
}

export interface OfferingMessage extends CtiMessage {
  type: 'offering';
  call_id: string;
  caller: string;
  customer: CallCustomer | null;
  queue?: string | null;
  ivr_path?: IvrStep[];
  waited_ms?: number;
  callback?: boolean;
}

export type CtiStatus = 'connecting' | 'open' | 'closed';

export interface CtiOptions {
  /** Keep the signed-in agent's state and calls (the agent desktop). */
  agent?: boolean;
  /** Subscribe to the wallboard feed (supervisors). */
  wallboard?: boolean;
  /** Open the socket at all (false: a user who may not use the CTI, e.g. the auditor). */
  enabled?: boolean;
  /** Called for every message, after the hook's own handling. */
  onEvent?: (m: CtiMessage) => void;
}

export interface CtiValue {
  status: CtiStatus;
  /** undefined while loading; null when the user is no agent (404) or the agent could not be read. */
  agent: Agent | null | undefined;
  /** Why the agent could not be read (not 404). */
  agentError: ApiError | null;
  calls: AgentCall[];
  /** The latest wallboard message (live figures only: waiting, longest wait, agents). */
  wallboard: (Wallboard & { received: number }) | null;
  /** Read the agent and its calls again. */
  refresh: () => Promise<void>;
  /** Apply the state a POST answered with. */
  applyState: (s: AgentState) => void;
  /** Apply the call a call command answered with. */
  applyCall: (c: AgentCall) => void;
  /** Read the calls again soon (after a call command whose answer is not a call). */
  refetchCalls: () => void;
}

/** Events after which the calls are read again (their state changed on the server). */
const CALL_EVENTS = new Set([
  'offering',
  'answered',
  'held',
  'resumed',
  'muted',
  'unmuted',
  'transferred',
  'consulting',
  'consult_answered',
  'consult_failed',
  'conference',
  'conference_failed',
  'ended',
  'missed',
  'offer_cancelled',
  'recording',
]);

const KEEPALIVE_MS = 25_000;
/** At most one re-read of the agent and its calls per this long after seq gaps. */
const RESYNC_MIN_MS = 2_000;

export function useCti(opts: CtiOptions = {}): CtiValue {
  const { agent: wantAgent = false, wallboard: wantWallboard = false, enabled = true } = opts;
  const [status, setStatus] = useState<CtiStatus>('connecting');
  const [agent, setAgent] = useState<Agent | null | undefined>(wantAgent ? undefined : null);
  const [agentError, setAgentError] = useState<ApiError | null>(null);
  const [calls, setCalls] = useState<AgentCall[]>([]);
  const [wallboard, setWallboard] = useState<(Wallboard & { received: number }) | null>(null);
  const onEvent = useRef(opts.onEvent);
  onEvent.current = opts.onEvent;
  const alive = useRef(true);
  const agentId = useRef<string | null>(null);

  const loadCalls = useCallback(async () => {
    try {
      const cs = await acdApi.myCalls();
      if (alive.current) setCalls(Array.isArray(cs) ? cs : []);
    } catch {
      /* the ACD is down or the user is no agent: keep what we have */
    }
  }, []);

  const refresh = useCallback(async () => {
    if (!wantAgent) return;
    try {
      const a = await acdApi.me();
      if (!alive.current) return;
      agentId.current = a.id;
      setAgent(a);
      setAgentError(null);
    } catch (e) {
      if (!alive.current) return;
      const err = e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) });
      if (err.status === 404) {
        setAgent(null);
        setAgentError(null);
      } else {
        setAgentError(err);
        setAgent((a) => (a === undefined ? null : a));
      }
      return;
    }
    await loadCalls();
  }, [wantAgent, loadCalls]);

  // Debounced re-reads: many events arrive together (answered + state).
  const callsTimer = useRef<number | undefined>(undefined);
  const refetchCalls = useCallback(() => {
    window.clearTimeout(callsTimer.current);
    callsTimer.current = window.setTimeout(() => void loadCalls(), 150);
  }, [loadCalls]);
  const resyncTimer = useRef<number | undefined>(undefined);
  const lastResync = useRef(0);
  const resync = useCallback(() => {
    if (resyncTimer.current !== undefined) return;
    const wait = Math.max(0, lastResync.current + RESYNC_MIN_MS - Date.now());
    resyncTimer.current = window.setTimeout(() => {
      resyncTimer.current = undefined;
      lastResync.current = Date.now();
      void refresh();
    }, wait);
  }, [refresh]);

  const applyState = useCallback((s: AgentState) => {
    if (!s || typeof s !== 'object' || !('state' in s)) return;
    setAgent((a) => {
      if (!a) return a;
      // A state without `since` that differs from ours started now (the clock must not keep the old one).
      const started = s.state !== a.state?.state && !s.since ? { since: new Date().toISOString() } : {};
      return { ...a, state: { ...a.state, ...s, ...started } };
    });
  }, []);
  const applyCall = useCallback((c: AgentCall) => {
    if (!c || typeof c !== 'object' || !c.id || !('state' in c)) return;
    if ((c.state as string) === 'ended') {
      setCalls((cs) => cs.filter((x) => x.id !== c.id));
      return;
    }
    setCalls((cs) => (cs.some((x) => x.id === c.id) ? cs.map((x) => (x.id === c.id ? { ...x, ...c } : x)) : [...cs, c]));
  }, []);

  useEffect(() => {
    alive.current = true;
    void refresh();
    return () => {
      alive.current = false;
      window.clearTimeout(callsTimer.current);
      window.clearTimeout(resyncTimer.current);
      resyncTimer.current = undefined;
    };
  }, [refresh]);

  useEffect(() => {
    if (!enabled) {
      setStatus('closed');
      return;
    }
    let ws: WebSocket | null = null;
    let retry: number | undefined;
    let keepalive: number | undefined;
    let delay = 1000;
    let stopped = false;
    let opened = 0;
    let lastSeq = 0;

    const send = (m: unknown) => {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };

    const handle = (msg: CtiMessage) => {
      const seq = typeof msg.seq === 'number' ? msg.seq : undefined;
      if (seq !== undefined) {
        // A gap means events were lost: read the state again. A smaller number: the server restarted.
        if (lastSeq > 0 && (seq > lastSeq + 1 || seq <= lastSeq) && wantAgent) resync();
        lastSeq = seq;
      }
      switch (msg.type) {
        case 'ping':
          send({ type: 'pong' });
          return;
        case 'pong':
        case 'subscribed':
          return;
        case 'resync':
          if (wantAgent) resync();
          break;
        case 'hello': {
          const h = msg as HelloMessage;
          if (wantAgent) {
            if (h.agent_id) agentId.current = h.agent_id;
            if (h.state) applyState(h.state);
            if (Array.isArray(h.calls)) setCalls(h.calls);
          }
          break;
        }
        case 'state': {
          const m = msg as StateMessage;
          if (wantAgent && m.state && (!m.agent_id || !agentId.current || m.agent_id === agentId.current)) applyState(m.state);
          break;
        }
        case 'wallboard': {
          const board = msg as unknown as Partial<Wallboard>;
          if (Array.isArray(board.queues) || Array.isArray(board.agents)) {
            setWallboard({ queues: board.queues ?? [], agents: board.agents ?? [], at: board.at, received: Date.now() });
          }
          break;
        }
        default:
          if (wantAgent && CALL_EVENTS.has(msg.type)) {
            const id = typeof msg.call_id === 'string' ? msg.call_id : undefined;
            // Quick local changes; the re-read that follows is the truth.
            if (id && (msg.type === 'ended' || msg.type === 'missed' || msg.type === 'offer_cancelled')) {
              setCalls((cs) => cs.filter((c) => c.id !== id));
            } else if (id && (msg.type === 'held' || msg.type === 'resumed')) {
              setCalls((cs) => cs.map((c) => (c.id === id ? { ...c, state: msg.type === 'held' ? 'held' : 'talking' } : c)));
            } else if (id && (msg.type === 'muted' || msg.type === 'unmuted')) {
              setCalls((cs) => cs.map((c) => (c.id === id ? { ...c, muted: msg.type === 'muted' } : c)));
            }
            refetchCalls();
          }
      }
      onEvent.current?.(msg);
    };

    const connect = () => {
      if (stopped) return;
      setStatus('connecting');
      try {
        ws = new WebSocket(acdUrls.cti());
      } catch {
        schedule();
        return;
      }
      ws.onopen = () => {
        delay = 1000;
        lastSeq = 0;
        setStatus('open');
        if (wantWallboard) send({ subscribe: 'wallboard' });
        window.clearInterval(keepalive);
        keepalive = window.setInterval(() => send({ type: 'ping' }), KEEPALIVE_MS);
        // A reconnect after a gap may have missed events: read the state again.
        if (opened++ > 0 && wantAgent) void refresh();
      };
      ws.onmessage = (ev) => {
        let msg: CtiMessage;
        try {
          msg = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        if (msg && typeof msg === 'object' && typeof msg.type === 'string') handle(msg);
      };
      ws.onclose = () => {
        window.clearInterval(keepalive);
        setStatus('closed');
        schedule();
      };
      ws.onerror = () => {
        /* onclose follows */
      };
    };
    const schedule = () => {
      if (stopped) return;
      window.clearTimeout(retry);
      retry = window.setTimeout(connect, delay + Math.floor(Math.random() * 250));
      delay = Math.min(delay * 2, 30_000);
    };

    connect();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      window.clearInterval(keepalive);
      if (ws) {
        ws.onclose = null;
        ws.close();
      }
    };
  }, [enabled, wantAgent, wantWallboard, refresh, resync, refetchCalls, applyState]);

  return { status, agent, agentError, calls, wallboard, refresh, applyState, applyCall, refetchCalls };
}
