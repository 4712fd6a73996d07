import { Spin, type FormInstance } from 'antd';
import type { Permission } from '../auth';
import { ApiError, fieldPath } from '../api';

export function PageSpin() {
  return (
    <div style={{ padding: 48, textAlign: 'center' }} data-testid="page-loading">
      <Spin size="large" />
    </div>
  );
}

/**
 * The start page: site staff land on their unit's work-order inbox; otherwise customer search when allowed,
 * else the first page the user may open.
 */
export function homePath(can: (p: Permission) => boolean, role?: string): string {
  if (role === 'site_staff' && can('work_orders.read')) return '/site/inbox';
  if (can('customers.read')) return '/customers';
  if (can('users.read')) return '/admin/users';
  if (can('audit.read')) return '/admin/audit';
  if (can('imports.run')) return '/admin/imports';
  return '/customers';
}

/**
 * Puts a problem+json's `errors[].field` messages on the matching form items. Returns the messages that
 * matched no form item (to be shown above the form), or the problem's detail when there were no field errors.
 */
export function applyProblemToForm(form: FormInstance, err: unknown, fieldNames?: string[]): string | null {
  if (!(err instanceof ApiError)) return String(err);
  const errors = err.problem.errors ?? [];
  if (!errors.length) return err.problem.detail || err.problem.title || err.message;
  const grouped = new Map<string, { name: (string | number)[]; errors: string[] }>();
  const leftover: string[] = [];
  for (const fe of errors) {
    const path = fieldPath(fe.field ?? '');
    const top = path[0];
    if (typeof top === 'string' && (!fieldNames || fieldNames.includes(top))) {
      const key = JSON.stringify(path);
      const g = grouped.get(key) ?? { name: path, errors: [] };
      g.errors.push(fe.reason);
      grouped.set(key, g);
    } else {
      leftover.push(fe.field ? `${fe.field}: ${fe.reason}` : fe.reason);
    }
  }
  form.setFields([...grouped.values()]);
  const head = err.problem.detail || err.problem.title || '';
  if (leftover.length) return [head, ...leftover].filter(Boolean).join('；');
  return head || null;
}
