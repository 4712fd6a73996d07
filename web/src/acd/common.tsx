// Shared pieces of the agent desktop and the wallboard: state colours and tags, reason labels,
// ticking clocks.
import { useCallback, useEffect, useState } from 'react';
import { Tag } from 'antd';
import { ApiError } from '../api';
import { useI18n, type MessageKey, type TFunc } from '../i18n';
import { acdApi, type AgentStateName, type Reason } from './api';

export const STATE_COLORS: Record<AgentStateName, string> = {
  logged_out: '#8c8c8c',
  ready: '#52c41a',
  not_ready: '#fa8c16',
  reserved: '#1677ff',
  on_call: '#f5222d',
  wrap_up: '#722ed1',
};

export function stateLabel(t: TFunc, s: string): string {
  const key = `acd.state.${s}` as MessageKey;
  const v = t(key);
  return v === key ? s : v;
}

/** Re-renders every `ms` (1 s by default) and returns the time now. */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(h);
  }, [ms]);
  return now;
}

/** `m:ss`, or `h:mm:ss` from an hour on. Negative values count as 0. */
export function fmtClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds as `m:ss` (ASA, AHT, longest wait). */
export function fmtSecs(secs: number | null | undefined): string {
  if (secs === null || secs === undefined || Number.isNaN(secs)) return '—';
  return fmtClock(secs * 1000);
}

export function since(ts: string | null | undefined, now: number): number {
  if (!ts) return 0;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? 0 : now - t;
}

let reasonsCache: Promise<Reason[]> | null = null;

/** The not-ready reasons (`GET /acd/reasons`), read once per page load. */
export function useReasons(): Reason[] {
  const [reasons, setReasons] = useState<Reason[]>([]);
  useEffect(() => {
    let alive = true;
    reasonsCache ??= acdApi.reasons().catch((e) => {
      reasonsCache = null;
      throw e;
    });
    reasonsCache.then((r) => alive && setReasons(Array.isArray(r) ? r : [])).catch(() => undefined);
    return () => {
      alive = false;
    };
  }, []);
  return reasons;
}

/** A reason code's label: the server's list first, then our own dictionary, else the code. */
export function useReasonLabel(reasons: Reason[]): (code: string | null | undefined) => string {
  const { lang, t } = useI18n();
  return useCallback(
    (code) => {
      if (!code) return '';
      const r = reasons.find((x) => x.code === code);
      if (r) return lang === 'en' ? r.en || r.zh : r.zh || r.en;
      const key = `acd.reason.${code}` as MessageKey;
      const v = t(key);
      return v === key ? code : v;
    },
    [reasons, lang, t],
  );
}

export function StateTag({
  state,
  reason,
  testId,
  children,
}: {
  state: string;
  reason?: string;
  testId?: string;
  children?: React.ReactNode;
}) {
  const { t } = useI18n();
  const color = STATE_COLORS[state as AgentStateName] ?? '#8c8c8c';
  return (
    <Tag color={color} data-testid={testId} data-state={state} style={{ marginInlineEnd: 0 }}>
      {stateLabel(t, state)}
      {reason ? ` · ${reason}` : null}
      {children}
    </Tag>
  );
}

/** A problem's message for a toast: the field reason of a 409/422 when there is one. */
export function problemText(e: unknown): string {
  if (e instanceof ApiError) {
    const fe = e.problem.errors?.[0];
    if (fe?.reason) return fe.reason;
    return e.problem.detail || e.problem.title || e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
