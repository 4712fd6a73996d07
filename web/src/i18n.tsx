// A small dictionary of our own: Chinese first, English as the alternative. `useT()` gives `t(key, vars)`.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import 'dayjs/locale/en';

const zh = {
  'app.title': 'kefu 客服中心',
  'app.short': '客服中心',
  'lang.switch': 'English',
  'lang.current': '中文',

  // menu
  'menu.desktop': '坐席工作台',
  'menu.customers': '客户查询',
  'menu.workOrders': '工单',
  'menu.knowledge': '知识库',
  'menu.ivr': 'IVR 设计',
  'menu.wallboard': '监控大屏',
  'menu.admin': '系统管理',
  'menu.users': '用户与角色',
  'menu.audit': '审计日志',
  'menu.imports': '数据导入',
  'menu.comingSoon': '即将推出',

  // header
  'header.logout': '退出登录',
  'header.changePassword': '修改密码',
  'header.unit': '所属单位',
  'header.role': '角色',

  // common
  'common.search': '查询',
  'common.reset': '重置',
  'common.retry': '重试',
  'common.save': '保存',
  'common.cancel': '取消',
  'common.ok': '确定',
  'common.edit': '编辑',
  'common.create': '新建',
  'common.actions': '操作',
  'common.yes': '是',
  'common.no': '否',
  'common.loading': '加载中…',
  'common.saved': '已保存',
  'common.total': '共 {n} 条',
  'common.back': '返回',
  'common.none': '无',
  'common.active': '启用',
  'common.inactive': '停用',
  'common.status': '状态',
  'common.comingSoon': '即将推出',
  'common.comingSoonDesc': '该功能正在建设中，敬请期待。',
  'common.error': '操作失败',
  'common.networkError': '无法连接服务器',
  'common.required': '必填',
  'common.forbiddenAction': '无权执行此操作',

  // login
  'login.title': '客服中心登录',
  'login.subtitle': '城市燃气客户服务平台',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.failed': '登录失败',
  'login.locked': '登录失败次数过多，请 {s} 秒后再试',
  'login.throttled': '登录失败次数过多，请稍后再试',
  'login.invalid': '用户名或密码错误',
  'login.usernameRequired': '请输入用户名',
  'login.passwordRequired': '请输入密码',

  // password
  'pwd.title': '修改密码',
  'pwd.current': '当前密码',
  'pwd.new': '新密码',
  'pwd.confirm': '确认新密码',
  'pwd.mismatch': '两次输入的新密码不一致',
  'pwd.changed': '密码已修改',
  'pwd.reset': '重置密码',
  'pwd.resetTitle': '重置用户 {name} 的密码',
  'pwd.resetDone': '密码已重置，该用户的会话已结束',

  // customers
  'cust.title': '客户查询',
  'cust.searchPlaceholder': '户号、电话、姓名或地址',
  'cust.district': '区域',
  'cust.districtAll': '全部区域',
  'cust.serviceType': '气种',
  'cust.serviceAll': '全部气种',
  'cust.no': '户号',
  'cust.name': '姓名',
  'cust.phone': '电话',
  'cust.phones': '联系电话',
  'cust.addPhone': '添加电话',
  'cust.address': '地址',
  'cust.overdue': '欠费',
  'cust.new': '新建客户',
  'cust.created': '客户已创建',
  'cust.meterNo': '表号',
  'cust.notice': '通知方式',
  'cust.fax': '传真',
  'cust.email': '电子邮件',
  'cust.language': '语言',
  'cust.remarks': '备注',
  'cust.createdAt': '建档时间',
  'cust.updatedAt': '更新时间',
  'st.bottled': '瓶装气',
  'st.pipeline': '管道气',
  'np.voice': '语音电话',
  'np.fax': '传真',
  'np.sms': '短信',
  'np.email': '电子邮件',
  'lang.zh-CN': '中文',
  'lang.en': '英文',

  // detail
  'detail.title': '客户详情',
  'detail.contact': '联系信息',
  'detail.edit': '编辑客户',
  'detail.accounts': '账户与账单',
  'detail.account': '账户 {no}',
  'detail.openedOn': '开户日期',
  'detail.noAccounts': '该客户暂无账户',
  'detail.bills': '账单',
  'detail.payments': '缴费记录',
  'detail.period': '账期',
  'detail.amount': '金额',
  'detail.dueDate': '缴费截止日',
  'detail.paidOn': '缴费日期',
  'detail.method': '缴费方式',
  'detail.reference': '凭证号',
  'detail.recordPayment': '登记缴费',
  'detail.paymentRecorded': '缴费已登记',
  'detail.amountYuan': '金额（元）',
  'detail.periodOptional': '结清账期（可选）',
  'detail.calls': '通话记录',
  'detail.workOrders': '工单',
  'detail.messages': '短信 / 邮件 / 传真',
  'detail.notFound': '未找到该客户',
  'bill.paid': '已缴',
  'bill.unpaid': '未缴',
  'bill.overdue': '逾期',
  'pm.counter': '柜台',
  'pm.bank': '银行',
  'pm.wechat': '微信',
  'pm.alipay': '支付宝',
  'pm.other': '其他',

  // users
  'users.title': '用户与角色',
  'users.tabUsers': '用户',
  'users.tabRoles': '角色',
  'users.tabUnits': '单位',
  'users.searchPlaceholder': '用户名或姓名',
  'users.username': '用户名',
  'users.displayName': '姓名',
  'users.role': '角色',
  'users.unit': '所属单位',
  'users.active': '启用',
  'users.createdAt': '创建时间',
  'users.new': '新建用户',
  'users.edit': '编辑用户',
  'users.password': '初始密码',
  'users.created': '用户已创建',
  'roles.role': '角色',
  'roles.label': '名称',
  'roles.permissions': '权限',
  'units.code': '编码',
  'units.name': '名称',
  'units.kind': '类型',
  'units.parent': '上级单位',
  'units.takesQueue': '接听排队来电',
  'units.new': '新建单位',
  'units.edit': '编辑单位',
  'unitKind.call_center': '客服中心',
  'unitKind.headquarters': '集团公司',
  'unitKind.branch_office': '分理处',
  'unitKind.pipe_network_office': '管网所',
  'unitKind.repair_crew': '抢修班组',
  'unitKind.department': '部门',
  'role.admin': '系统管理员',
  'role.supervisor': '班长',
  'role.agent': '坐席',
  'role.site_staff': '站点人员',
  'role.auditor': '审计员',

  // audit
  'audit.title': '审计日志',
  'audit.actor': '操作人',
  'audit.entityType': '对象类型',
  'audit.action': '动作',
  'audit.range': '时间范围',
  'audit.at': '时间',
  'audit.entity': '对象',
  'audit.before': '修改前',
  'audit.after': '修改后',
  'audit.sourceIp': '来源 IP',
  'audit.requestId': '请求号',

  // imports
  'imp.title': '数据导入',
  'imp.kind': '导入类型',
  'imp.kindCustomers': '客户',
  'imp.kindBills': '账单',
  'imp.file': '文件（CSV / XLSX）',
  'imp.choose': '选择文件',
  'imp.skipInvalid': '跳过错误行',
  'imp.start': '开始导入',
  'imp.noFile': '请先选择文件',
  'imp.progress': '导入进度',
  'imp.status.queued': '排队中',
  'imp.status.running': '导入中',
  'imp.status.succeeded': '已完成',
  'imp.status.failed': '失败',
  'imp.total': '总行数',
  'imp.processed': '已处理',
  'imp.inserted': '新增',
  'imp.updated': '更新',
  'imp.skipped': '跳过',
  'imp.errors': '错误行',
  'imp.line': '行号',
  'imp.column': '列',
  'imp.reason': '原因',
  'imp.history': '导入记录',
  'imp.filename': '文件名',
  'imp.createdAt': '提交时间',
  'imp.finishedAt': '完成时间',

  // errors
  'err.403.title': '无权访问',
  'err.403.desc': '您的角色没有访问此页面的权限，如需开通请联系系统管理员。',
  'err.404.title': '页面不存在',
  'err.404.desc': '您访问的页面不存在。',
  'err.home': '返回首页',
};

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  'app.title': 'kefu Contact Center',
  'app.short': 'Contact Center',
  'lang.switch': '中文',
  'lang.current': 'English',

  'menu.desktop': 'Agent desktop',
  'menu.customers': 'Customers',
  'menu.workOrders': 'Work orders',
  'menu.knowledge': 'Knowledge base',
  'menu.ivr': 'IVR designer',
  'menu.wallboard': 'Wallboard',
  'menu.admin': 'Administration',
  'menu.users': 'Users & roles',
  'menu.audit': 'Audit log',
  'menu.imports': 'Imports',
  'menu.comingSoon': 'coming soon',

  'header.logout': 'Sign out',
  'header.changePassword': 'Change password',
  'header.unit': 'Unit',
  'header.role': 'Role',

  'common.search': 'Search',
  'common.reset': 'Reset',
  'common.retry': 'Retry',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.ok': 'OK',
  'common.edit': 'Edit',
  'common.create': 'Create',
  'common.actions': 'Actions',
  'common.yes': 'Yes',
  'common.no': 'No',
  'common.loading': 'Loading…',
  'common.saved': 'Saved',
  'common.total': '{n} in total',
  'common.back': 'Back',
  'common.none': 'None',
  'common.active': 'Active',
  'common.inactive': 'Inactive',
  'common.status': 'Status',
  'common.comingSoon': 'Coming soon',
  'common.comingSoonDesc': 'This feature is under construction.',
  'common.error': 'The operation failed',
  'common.networkError': 'Cannot reach the server',
  'common.required': 'Required',
  'common.forbiddenAction': 'You are not allowed to do this',

  'login.title': 'Contact center sign-in',
  'login.subtitle': 'City gas customer service platform',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.failed': 'Sign-in failed',
  'login.locked': 'Too many failed sign-ins: try again in {s} seconds',
  'login.throttled': 'Too many failed sign-ins: try again later',
  'login.invalid': 'Wrong username or password',
  'login.usernameRequired': 'Enter your username',
  'login.passwordRequired': 'Enter your password',

  'pwd.title': 'Change password',
  'pwd.current': 'Current password',
  'pwd.new': 'New password',
  'pwd.confirm': 'Confirm new password',
  'pwd.mismatch': 'The new passwords do not match',
  'pwd.changed': 'Password changed',
  'pwd.reset': 'Reset password',
  'pwd.resetTitle': 'Reset the password of {name}',
  'pwd.resetDone': "Password reset; the user's sessions have ended",

  'cust.title': 'Customer search',
  'cust.searchPlaceholder': 'Customer no., phone, name or address',
  'cust.district': 'District',
  'cust.districtAll': 'All districts',
  'cust.serviceType': 'Gas type',
  'cust.serviceAll': 'All gas types',
  'cust.no': 'Customer no.',
  'cust.name': 'Name',
  'cust.phone': 'Phone',
  'cust.phones': 'Phones',
  'cust.addPhone': 'Add phone',
  'cust.address': 'Address',
  'cust.overdue': 'Overdue',
  'cust.new': 'New customer',
  'cust.created': 'Customer created',
  'cust.meterNo': 'Meter no.',
  'cust.notice': 'Notices by',
  'cust.fax': 'Fax',
  'cust.email': 'Email',
  'cust.language': 'Language',
  'cust.remarks': 'Remarks',
  'cust.createdAt': 'Created',
  'cust.updatedAt': 'Updated',
  'st.bottled': 'Bottled gas',
  'st.pipeline': 'Pipeline gas',
  'np.voice': 'Voice call',
  'np.fax': 'Fax',
  'np.sms': 'SMS',
  'np.email': 'Email',
  'lang.zh-CN': 'Chinese',
  'lang.en': 'English',

  'detail.title': 'Customer',
  'detail.contact': 'Contact',
  'detail.edit': 'Edit customer',
  'detail.accounts': 'Accounts and bills',
  'detail.account': 'Account {no}',
  'detail.openedOn': 'Opened on',
  'detail.noAccounts': 'This customer has no account',
  'detail.bills': 'Bills',
  'detail.payments': 'Payments',
  'detail.period': 'Period',
  'detail.amount': 'Amount',
  'detail.dueDate': 'Due date',
  'detail.paidOn': 'Paid on',
  'detail.method': 'Method',
  'detail.reference': 'Reference',
  'detail.recordPayment': 'Record payment',
  'detail.paymentRecorded': 'Payment recorded',
  'detail.amountYuan': 'Amount (yuan)',
  'detail.periodOptional': 'Settles period (optional)',
  'detail.calls': 'Calls',
  'detail.workOrders': 'Work orders',
  'detail.messages': 'SMS / email / fax',
  'detail.notFound': 'Customer not found',
  'bill.paid': 'Paid',
  'bill.unpaid': 'Unpaid',
  'bill.overdue': 'Overdue',
  'pm.counter': 'Counter',
  'pm.bank': 'Bank',
  'pm.wechat': 'WeChat',
  'pm.alipay': 'Alipay',
  'pm.other': 'Other',

  'users.title': 'Users & roles',
  'users.tabUsers': 'Users',
  'users.tabRoles': 'Roles',
  'users.tabUnits': 'Units',
  'users.searchPlaceholder': 'Username or name',
  'users.username': 'Username',
  'users.displayName': 'Name',
  'users.role': 'Role',
  'users.unit': 'Unit',
  'users.active': 'Active',
  'users.createdAt': 'Created',
  'users.new': 'New user',
  'users.edit': 'Edit user',
  'users.password': 'Initial password',
  'users.created': 'User created',
  'roles.role': 'Role',
  'roles.label': 'Label',
  'roles.permissions': 'Permissions',
  'units.code': 'Code',
  'units.name': 'Name',
  'units.kind': 'Kind',
  'units.parent': 'Parent unit',
  'units.takesQueue': 'Takes queue calls',
  'units.new': 'New unit',
  'units.edit': 'Edit unit',
  'unitKind.call_center': 'Call center',
  'unitKind.headquarters': 'Headquarters',
  'unitKind.branch_office': 'Branch office',
  'unitKind.pipe_network_office': 'Pipe network office',
  'unitKind.repair_crew': 'Repair crew',
  'unitKind.department': 'Department',
  'role.admin': 'Administrator',
  'role.supervisor': 'Supervisor',
  'role.agent': 'Agent',
  'role.site_staff': 'Site staff',
  'role.auditor': 'Auditor',

  'audit.title': 'Audit log',
  'audit.actor': 'Actor',
  'audit.entityType': 'Entity type',
  'audit.action': 'Action',
  'audit.range': 'Date range',
  'audit.at': 'Time',
  'audit.entity': 'Entity',
  'audit.before': 'Before',
  'audit.after': 'After',
  'audit.sourceIp': 'Source IP',
  'audit.requestId': 'Request id',

  'imp.title': 'Imports',
  'imp.kind': 'Kind',
  'imp.kindCustomers': 'Customers',
  'imp.kindBills': 'Bills',
  'imp.file': 'File (CSV / XLSX)',
  'imp.choose': 'Choose file',
  'imp.skipInvalid': 'Skip invalid rows',
  'imp.start': 'Start import',
  'imp.noFile': 'Choose a file first',
  'imp.progress': 'Progress',
  'imp.status.queued': 'Queued',
  'imp.status.running': 'Running',
  'imp.status.succeeded': 'Succeeded',
  'imp.status.failed': 'Failed',
  'imp.total': 'Rows',
  'imp.processed': 'Processed',
  'imp.inserted': 'Inserted',
  'imp.updated': 'Updated',
  'imp.skipped': 'Skipped',
  'imp.errors': 'Row errors',
  'imp.line': 'Line',
  'imp.column': 'Column',
  'imp.reason': 'Reason',
  'imp.history': 'Import history',
  'imp.filename': 'File',
  'imp.createdAt': 'Submitted',
  'imp.finishedAt': 'Finished',

  'err.403.title': 'Access denied',
  'err.403.desc': 'Your role may not open this page. Ask an administrator if you need it.',
  'err.404.title': 'Page not found',
  'err.404.desc': 'The page you opened does not exist.',
  'err.home': 'Home',
};

export type Lang = 'zh-CN' | 'en';
const dictionaries: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': zh, en };
const STORAGE_KEY = 'kefu.lang';

function initialLang(): Lang {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === 'en' || v === 'zh-CN') return v;
  } catch {
    /* storage unavailable */
  }
  return 'zh-CN';
}

export type TFunc = (key: MessageKey, vars?: Record<string, string | number>) => string;

interface I18nValue {
  lang: Lang;
  setLang: (l: Lang) => void;
  toggle: () => void;
  t: TFunc;
}

const I18nContext = createContext<I18nValue | null>(null);

export function translate(lang: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  let s = dictionaries[lang][key] ?? dictionaries['zh-CN'][key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      /* ignore */
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    dayjs.locale(lang === 'en' ? 'en' : 'zh-cn');
    document.title = translate(lang, 'app.title');
  }, [lang]);
  const value = useMemo<I18nValue>(
    () => ({
      lang,
      setLang,
      toggle: () => setLang(lang === 'en' ? 'zh-CN' : 'en'),
      t: (key, vars) => translate(lang, key, vars),
    }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}

export function useT(): TFunc {
  return useI18n().t;
}

/** Translate a keyword value (service type, role, …) falling back to the raw value. */
export function useEnumLabel() {
  const { lang } = useI18n();
  return (prefix: string, value: string | null | undefined): string => {
    if (value === null || value === undefined || value === '') return '';
    const key = `${prefix}.${value}` as MessageKey;
    return key in zh ? translate(lang, key) : value;
  };
}
