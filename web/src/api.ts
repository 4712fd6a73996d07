// The HTTP client for the kefu API (docs/api.md). Same-origin cookie auth; errors are RFC 9457 problem+json.

export const API_BASE = '/api/v1';

export interface FieldProblem {
  field: string;
  reason: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldProblem[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfter?: number;

  constructor(problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.status = problem.status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  per_page: number;
}

export interface Me {
  id: string;
  username: string;
  display_name: string;
  role: string;
  /** The role's Chinese label (the server sends it; not in docs/api.md). */
  role_label?: string;
  unit_id: string;
  unit_name: string;
  permissions: string[];
}

export type UnitKind =
  | 'call_center'
  | 'headquarters'
  | 'branch_office'
  | 'pipe_network_office'
  | 'repair_crew'
  | 'department';

export interface Unit {
  id: string;
  code: string;
  name: string;
  kind: UnitKind;
  parent_id?: string | null;
  takes_queue_calls: boolean;
  active: boolean;
}

export interface RoleInfo {
  role: string;
  label_zh: string;
  permissions: string[];
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  role: string;
  unit_id: string;
  unit_name: string;
  active: boolean;
  created_at: string;
}

export type ServiceType = 'bottled' | 'pipeline';
export type NoticePreference = 'voice' | 'fax' | 'sms' | 'email';
export type Language = 'zh-CN' | 'en';

export interface CustomerSummary {
  id: string;
  customer_no: string;
  name: string;
  primary_phone?: string | null;
  address: string;
  district: string;
  service_type: ServiceType;
  overdue_cents: number;
}

export interface CustomerInput {
  customer_no: string;
  name: string;
  phones: string[];
  address: string;
  district: string;
  service_type: ServiceType;
  meter_no?: string | null;
  notice_preference: NoticePreference;
  fax?: string | null;
  email?: string | null;
  language: Language;
  remarks?: string | null;
}

export interface Customer extends CustomerInput {
  id: string;
  created_at: string;
  updated_at: string;
}

export type BillStatus = 'unpaid' | 'paid' | 'overdue';

export interface Bill {
  id: string;
  period: string;
  amount_cents: number;
  due_date: string;
  paid_on?: string | null;
  status: BillStatus;
}

export type PaymentMethod = 'counter' | 'bank' | 'wechat' | 'alipay' | 'other';

export interface Payment {
  id: string;
  amount_cents: number;
  paid_on: string;
  method: PaymentMethod | string;
  period?: string | null;
  reference?: string | null;
}

export interface Account {
  id: string;
  account_no: string;
  opened_on: string;
  bills: Bill[];
  payments: Payment[];
}

export interface CustomerDetail extends Customer {
  accounts: Account[];
}

export interface PaymentInput {
  amount_cents: number;
  paid_on: string;
  method: PaymentMethod;
  period?: string;
  reference?: string;
}

export type ImportKind = 'customers' | 'bills';
export type ImportStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ImportRowError {
  line: number;
  column?: string | null;
  reason: string;
}

export interface ImportJob {
  id: string;
  kind: ImportKind;
  filename: string;
  status: ImportStatus;
  percent: number;
  total_rows: number;
  processed_rows: number;
  inserted: number;
  updated: number;
  skipped: number;
  errors: ImportRowError[];
  /** Why the job failed (not in docs/api.md; the server sends it). */
  failure?: string | null;
  skip_invalid?: boolean;
  created_at: string;
  finished_at?: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor_id?: string | null;
  actor_name: string;
  action: string;
  entity_type: string;
  entity_id?: string | null;
  before?: unknown;
  after?: unknown;
  source_ip?: string | null;
  request_id?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Work orders (工单), their types and calendars, attachments, notifications, saved filters.

export type WoStatus =
  | 'new'
  | 'dispatched'
  | 'accepted'
  | 'in_progress'
  | 'waiting_customer'
  | 'feedback_submitted'
  | 'closed'
  | 'callback_done'
  | 'archived'
  | 'cancelled'
  | 'merged';

export const WO_STATUSES: WoStatus[] = [
  'new',
  'dispatched',
  'accepted',
  'in_progress',
  'waiting_customer',
  'feedback_submitted',
  'closed',
  'callback_done',
  'archived',
  'cancelled',
  'merged',
];

/** The statuses in which a site holds the order (its inbox). */
export const SITE_STATUSES: WoStatus[] = ['dispatched', 'accepted', 'in_progress', 'waiting_customer'];

export type WoPriority = 'emergency' | 'urgent' | 'normal' | 'low';
export const WO_PRIORITIES: WoPriority[] = ['emergency', 'urgent', 'normal', 'low'];

export type WoChannel = 'phone' | 'ivr' | 'sms' | 'fax' | 'email' | 'web' | 'walk_in' | 'authority';
export const WO_CHANNELS: WoChannel[] = ['phone', 'ivr', 'sms', 'fax', 'email', 'web', 'walk_in', 'authority'];

export type WoAction =
  | 'dispatch'
  | 'reassign'
  | 'accept'
  | 'progress'
  | 'wait_customer'
  | 'resume'
  | 'submit_feedback'
  | 'return'
  | 'close'
  | 'callback'
  | 'archive'
  | 'reopen'
  | 'cancel'
  | 'merge'
  | 'urge'
  | 'comment'
  | 'update';

export type FieldKind = 'text' | 'number' | 'date' | 'choice' | 'customer' | 'address' | 'attachment';
export const FIELD_KINDS: FieldKind[] = ['text', 'number', 'date', 'choice', 'customer', 'address', 'attachment'];

export interface ChoiceOption {
  value: string;
  label: string;
  label_en?: string | null;
}

export interface FieldDef {
  key: string;
  label: string;
  label_en?: string | null;
  kind: FieldKind;
  required: boolean;
  options?: ChoiceOption[];
}

export interface PriorityRule {
  field: string;
  equals: string;
  priority: WoPriority;
}

/** The SLA policy of a type (kefu_workorders::sla::SlaPolicy); kept as JSON, edited where its shape is known. */
export type SlaPolicy = Record<string, unknown>;

export interface WorkOrderType {
  id: string;
  code: string;
  name: string;
  name_en?: string | null;
  description?: string | null;
  fields: FieldDef[];
  priority_rules: PriorityRule[];
  default_priority: WoPriority;
  default_unit_id?: string | null;
  fallback_unit_id?: string | null;
  calendar_id: string;
  sla: SlaPolicy;
  callback_required: boolean;
  active: boolean;
  sort: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export type WorkOrderTypeInput = Omit<WorkOrderType, 'id' | 'version' | 'created_at' | 'updated_at'>;

export interface Span {
  start: string;
  end: string;
}

export interface CalendarSpec {
  always_open: boolean;
  utc_offset_minutes: number;
  /** Monday first, seven arrays. */
  week: Span[][];
  holidays: string[];
  workdays: string[];
}

export interface BusinessCalendar {
  id: string;
  code: string;
  name: string;
  spec: CalendarSpec;
  version: number;
  created_at?: string;
  updated_at?: string;
}

/** `{id, name}`; older drafts of the API sent `display_name` for people. */
export interface Named {
  id: string;
  name?: string;
  display_name?: string;
}

export function nameOf(n: Named | null | undefined): string {
  return n ? (n.name ?? n.display_name ?? '') : '';
}

export interface WorkOrderSummary {
  id: string;
  no: string;
  type_id: string;
  type_name: string;
  status: WoStatus;
  priority: WoPriority;
  channel: WoChannel;
  title: string;
  customer_id?: string | null;
  customer_no?: string | null;
  customer_name?: string | null;
  contact_name?: string | null;
  contact_phone?: string | null;
  address?: string | null;
  unit_id?: string | null;
  unit_name?: string | null;
  assignee_name?: string | null;
  due_at?: string | null;
  overdue: boolean;
  breached: boolean;
  urge_count: number;
  closed_at?: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: string;
}

export interface Feedback {
  result: string;
  cause?: string | null;
  materials?: string | null;
  attachments: string[];
  submitted_at: string;
  submitted_by: string;
}

export interface TimelineEntry {
  id: string;
  action: string;
  from_status?: string | null;
  to_status: string;
  actor_name: string;
  note?: string | null;
  data?: unknown;
  at: string;
}

export interface WorkOrderDeadlines {
  accept_due_at?: string | null;
  feedback_due_at?: string | null;
  resolve_due_at?: string | null;
  paused: boolean;
}

export interface WorkOrder {
  id: string;
  no: string;
  type_id: string;
  type_name: string;
  status: WoStatus;
  priority: WoPriority;
  channel: WoChannel;
  origin?: { kind: string; ref: string } | null;
  origin_kind?: string | null;
  origin_ref?: string | null;
  customer?: { id: string; customer_no: string; name: string; phones?: string[]; address?: string } | null;
  contact_name?: string | null;
  contact_phone?: string | null;
  address?: string | null;
  title: string;
  description: string;
  fields: Record<string, unknown>;
  unit?: Named | null;
  assignee?: Named | null;
  created_by_name?: string | null;
  due_at?: string | null;
  overdue: boolean;
  breached: boolean;
  sla?: WorkOrderDeadlines | null;
  urge_count: number;
  customer_query_count?: number;
  feedback?: Feedback | null;
  satisfaction?: number | null;
  merged_into?: string | null;
  closed_at?: string | null;
  callback_required?: boolean;
  version: number;
  created_at: string;
  updated_at: string;
  timeline: TimelineEntry[];
  attachments: Attachment[];
  allowed_actions: WoAction[];
}

export interface NewWorkOrder {
  type_id: string;
  channel: WoChannel;
  origin?: { kind: string; ref: string };
  customer_id?: string;
  contact_name?: string;
  contact_phone?: string;
  address?: string;
  title: string;
  description: string;
  fields: Record<string, unknown>;
  priority?: WoPriority;
  unit_id?: string;
}

export interface WorkOrderPatch {
  version: number;
  title?: string;
  description?: string;
  fields?: Record<string, unknown>;
  priority?: WoPriority;
  contact_name?: string | null;
  contact_phone?: string | null;
  address?: string | null;
}

export interface ActionInput {
  action: WoAction;
  version: number;
  note?: string;
  unit_id?: string;
  assignee_id?: string;
  reason?: string;
  into?: string;
  feedback?: { result: string; cause?: string; materials?: string; attachments?: string[] };
  satisfaction?: number;
}

export interface AppNotification {
  id: string;
  event: string;
  work_order_id?: string | null;
  title: string;
  body: string;
  payload?: unknown;
  created_at: string;
  read_at?: string | null;
}

export interface NotificationPage {
  items: AppNotification[];
  total: number;
  unread: number;
}

export interface SavedFilter {
  id: string;
  name: string;
  /** The list's query parameters (an object of strings; a query string is accepted too). */
  query: Record<string, string> | string;
  created_at: string;
}

/** A random UUID (v4), also where `crypto.randomUUID` is missing (plain http on a LAN address). */
export function newUuid(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch {
      /* not a secure context */
    }
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const woUrls = {
  /** The printed 服务工单, in the page's language. */
  pdf: (id: string, lang?: string) => `${API_BASE}/work-orders/${encodeURIComponent(id)}/pdf${lang === 'en' ? '?lang=en' : ''}`,
  export: (q: Query, format: 'csv' | 'xlsx') => `${API_BASE}/work-orders/export${queryString({ ...q, format })}`,
  attachment: (id: string) => `${API_BASE}/attachments/${encodeURIComponent(id)}`,
  notificationsWs: () => {
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${window.location.host}${API_BASE}/notifications/ws`;
  },
};

// ---------------------------------------------------------------------------------------------
// Global signals: the app shell listens to these to show the login page or the 403 page.

export const UNAUTHORIZED_EVENT = 'kefu:unauthorized';
export const FORBIDDEN_EVENT = 'kefu:forbidden';

export type Query = Record<string, string | number | boolean | undefined | null>;

export function queryString(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  rawBody?: BodyInit;
  contentType?: string;
  /** Do not broadcast 401/403 to the app shell (e.g. the login call itself). */
  quiet?: boolean;
  /** Extra request headers (e.g. `Idempotency-Key`). */
  headers?: Record<string, string>;
}

async function readProblem(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      const j = JSON.parse(text);
      if (j && typeof j === 'object') {
        return { ...j, status: typeof j.status === 'number' ? j.status : res.status };
      }
    } catch {
      /* not JSON */
    }
  }
  return { status: res.status, title: res.statusText, detail: text || undefined };
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.rawBody !== undefined) {
    body = opts.rawBody;
    if (opts.contentType) headers['Content-Type'] = opts.contentType;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(API_BASE + path + queryString(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError({ status: 0, title: 'network', detail: String(e) });
  }
  if (!res.ok) {
    const problem = await readProblem(res);
    const ra = res.headers.get('Retry-After');
    const err = new ApiError(problem, ra ? Number(ra) : undefined);
    if (!opts.quiet) {
      if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
      if (res.status === 403 && method === 'GET') {
        window.dispatchEvent(new CustomEvent(FORBIDDEN_EVENT, { detail: problem }));
      }
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  // auth
  login: (username: string, password: string) =>
    request<{ token: string; user: Me }>('POST', '/auth/login', { body: { username, password }, quiet: true }),
  logout: () => request<void>('POST', '/auth/logout', { quiet: true }),
  me: () => request<Me>('GET', '/auth/me', { quiet: true }),
  changePassword: (current_password: string, new_password: string) =>
    request<void>('POST', '/auth/password', { body: { current_password, new_password } }),

  // organization
  units: () => request<Unit[]>('GET', '/units'),
  createUnit: (u: { code: string; name: string; kind: UnitKind; parent_id?: string; takes_queue_calls?: boolean }) =>
    request<Unit>('POST', '/units', { body: u }),
  updateUnit: (id: string, patch: Partial<Omit<Unit, 'id' | 'code'>>) =>
    request<Unit>('PATCH', `/units/${encodeURIComponent(id)}`, { body: patch }),
  roles: () => request<RoleInfo[]>('GET', '/roles'),
  users: (q: { q?: string; page?: number; per_page?: number }) => request<Page<User>>('GET', '/users', { query: q }),
  createUser: (u: { username: string; display_name: string; password: string; role: string; unit_id: string }) =>
    request<User>('POST', '/users', { body: u }),
  updateUser: (id: string, patch: Partial<Pick<User, 'display_name' | 'role' | 'unit_id' | 'active'>>) =>
    request<User>('PATCH', `/users/${encodeURIComponent(id)}`, { body: patch }),
  resetPassword: (id: string, new_password: string) =>
    request<void>('POST', `/users/${encodeURIComponent(id)}/password`, { body: { new_password } }),

  // customers
  customers: (q: Query) => request<Page<CustomerSummary>>('GET', '/customers', { query: q }),
  customer: (id: string) => request<CustomerDetail>('GET', `/customers/${encodeURIComponent(id)}`),
  createCustomer: (c: CustomerInput) => request<Customer>('POST', '/customers', { body: c }),
  updateCustomer: (id: string, patch: Partial<CustomerInput>) =>
    request<Customer>('PATCH', `/customers/${encodeURIComponent(id)}`, { body: patch }),
  recordPayment: (id: string, p: PaymentInput) =>
    request<Payment>('POST', `/customers/${encodeURIComponent(id)}/payments`, { body: p }),

  // imports
  startImport: (kind: ImportKind, skipInvalid: boolean, file: File) => {
    const isXlsx = /\.xlsx$/i.test(file.name);
    const contentType = isXlsx
      ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
      : 'text/csv';
    return request<ImportJob>('POST', '/imports', {
      query: { kind, skip_invalid: skipInvalid, filename: file.name },
      rawBody: file,
      contentType,
    });
  },
  importJob: (id: string) => request<ImportJob>('GET', `/imports/${encodeURIComponent(id)}`),
  imports: (q: { page?: number; per_page?: number }) => request<Page<ImportJob>>('GET', '/imports', { query: q }),

  // audit
  audit: (q: Query) => request<Page<AuditEntry>>('GET', '/audit', { query: q }),
  // work orders
  /** Active types only, unless `includeInactive`. */
  workOrderTypes: (includeInactive = false) =>
    request<WorkOrderType[]>('GET', '/work-order-types', { query: { include_inactive: includeInactive || undefined } }),
  workOrderType: (id: string) => request<WorkOrderType>('GET', `/work-order-types/${encodeURIComponent(id)}`),
  createWorkOrderType: (t: WorkOrderTypeInput) => request<WorkOrderType>('POST', '/work-order-types', { body: t }),
  updateWorkOrderType: (id: string, patch: Partial<WorkOrderTypeInput> & { version: number }) =>
    request<WorkOrderType>('PATCH', `/work-order-types/${encodeURIComponent(id)}`, { body: patch }),
  calendars: () => request<BusinessCalendar[]>('GET', '/calendars'),
  createCalendar: (c: { code: string; name: string; spec: CalendarSpec }) =>
    request<BusinessCalendar>('POST', '/calendars', { body: c }),
  updateCalendar: (id: string, patch: { version: number; name?: string; spec?: CalendarSpec }) =>
    request<BusinessCalendar>('PATCH', `/calendars/${encodeURIComponent(id)}`, { body: patch }),
  workOrders: (q: Query) => request<Page<WorkOrderSummary>>('GET', '/work-orders', { query: q }),
  workOrder: (id: string) => request<WorkOrder>('GET', `/work-orders/${encodeURIComponent(id)}`),
  createWorkOrder: (o: NewWorkOrder, idempotencyKey: string) =>
    request<WorkOrder>('POST', '/work-orders', { body: o, headers: { 'Idempotency-Key': idempotencyKey } }),
  updateWorkOrder: (id: string, patch: WorkOrderPatch) =>
    request<WorkOrder>('PATCH', `/work-orders/${encodeURIComponent(id)}`, { body: patch }),
  actOnWorkOrder: (id: string, a: ActionInput) =>
    request<WorkOrder>('POST', `/work-orders/${encodeURIComponent(id)}/actions`, { body: a }),
  uploadAttachment: (file: File) => {
    const fd = new FormData();
    fd.append('file', file, file.name);
    return request<Attachment>('POST', '/attachments', { rawBody: fd });
  },
  notifications: (q: { unread?: boolean; page?: number; per_page?: number }) =>
    request<NotificationPage>('GET', '/notifications', { query: q }),
  readNotification: (id: string) => request<void>('POST', `/notifications/${encodeURIComponent(id)}/read`),
  readAllNotifications: () => request<void>('POST', '/notifications/read-all'),
  savedFilters: () => request<SavedFilter[]>('GET', '/saved-filters'),
  createSavedFilter: (name: string, query: Record<string, string>) =>
    request<SavedFilter>('POST', '/saved-filters', { body: { name, query } }),
  deleteSavedFilter: (id: string) => request<void>('DELETE', `/saved-filters/${encodeURIComponent(id)}`),
};

/** `phones[0]` → `['phones', 0]`; `address` → `['address']`; `a.b` → `['a','b']`. */
export function fieldPath(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of field.split('.')) {
    const re = /([^[\]]+)|\[(\d+)\]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(part))) {
      if (m[1] !== undefined) out.push(m[1]);
      else out.push(Number(m[2]));
    }
  }
  return out;
}

export function yuan(cents: number | null | undefined): string {
  if (cents === null || cents === undefined) return '';
  const neg = cents < 0;
  const abs = Math.abs(cents);
  const s = `${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
  return `${neg ? '-' : ''}¥${s}`;
}
