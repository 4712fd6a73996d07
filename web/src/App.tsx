import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { App as AntApp, ConfigProvider, Result, Button } from 'antd';
import zhCN from 'antd/es/locale/zh_CN';
import enUS from 'antd/es/locale/en_US';
import { useI18n } from './i18n';
import { useAuth, type Permission } from './auth';
import { AppLayout } from './components/AppLayout';
import { Forbidden, NotFound } from './pages/Errors';
import { homePath, PageSpin } from './components/common';

const LoginPage = lazy(() => import('./pages/Login'));
const CustomersPage = lazy(() => import('./pages/Customers'));
const CustomerDetailPage = lazy(() => import('./pages/CustomerDetail'));
const UsersPage = lazy(() => import('./pages/AdminUsers'));
const AuditPage = lazy(() => import('./pages/Audit'));
const ImportsPage = lazy(() => import('./pages/Imports'));
const WorkOrdersPage = lazy(() => import('./pages/WorkOrders'));
const WorkOrderNewPage = lazy(() => import('./pages/WorkOrderNew'));
const WorkOrderDetailPage = lazy(() => import('./pages/WorkOrderDetail'));
const SiteInboxPage = lazy(() => import('./pages/SiteInbox'));
const WorkOrderTypesPage = lazy(() => import('./pages/AdminWorkOrderTypes'));
const CalendarsPage = lazy(() => import('./pages/AdminCalendars'));
const IvrFlowsPage = lazy(() => import('./pages/IvrFlows'));
const IvrDesignerPage = lazy(() => import('./pages/IvrDesigner'));
const IvrPromptsPage = lazy(() => import('./pages/IvrPrompts'));
const AgentDesktopPage = lazy(() => import('./pages/AgentDesktop'));
const WallboardPage = lazy(() => import('./pages/Wallboard'));
const KbBrowserPage = lazy(() => import('./pages/KbBrowser'));
const KbArticlePage = lazy(() => import('./pages/KbArticle'));
const KbEditorPage = lazy(() => import('./pages/KbEditor'));
const KbAdminPage = lazy(() => import('./pages/KbAdmin'));

function RequireAuth({ children }: { children: ReactNode }) {
  const { me, loadError, signedOut } = useAuth();
  const location = useLocation();
  const { t } = useI18n();
  if (me === undefined) return <PageSpin />;
  if (me === null) {
    if (loadError) {
      return (
        <Result
          status="error"
          title={t('common.networkError')}
          subTitle={loadError}
          extra={<Button onClick={() => window.location.reload()}>{t('common.retry')}</Button>}
        />
      );
    }
    return <Navigate to="/login" replace state={signedOut ? undefined : { from: location.pathname + location.search }} />;
  }
  return <>{children}</>;
}

/** Shows the 403 page when the signed-in user lacks `perm`. */
export function RequirePerm({ perm, children }: { perm: Permission; children: ReactNode }) {
  const { can } = useAuth();
  if (!can(perm)) return <Forbidden />;
  return <>{children}</>;
}

function Home() {
  const { can, me } = useAuth();
  return <Navigate to={homePath(can, me?.role)} replace />;
}

export function Root() {
  const { lang } = useI18n();
  return (
    <ConfigProvider
      locale={lang === 'en' ? enUS : zhCN}
      theme={{ token: { colorPrimary: '#1668dc', borderRadius: 6 } }}
    >
      <AntApp style={{ height: '100%' }}>
        <Suspense fallback={<PageSpin />}>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route
              element={
                <RequireAuth>
                  <AppLayout />
                </RequireAuth>
              }
            >
              <Route index element={<Home />} />
              <Route
                path="customers"
                element={
                  <RequirePerm perm="customers.read">
                    <CustomersPage />
                  </RequirePerm>
                }
              />
              <Route
                path="customers/:id"
                element={
                  <RequirePerm perm="customers.read">
                    <CustomerDetailPage />
                  </RequirePerm>
                }
              />
              <Route
                path="desk"
                element={
                  <RequirePerm perm="agents.desk">
                    <AgentDesktopPage />
                  </RequirePerm>
                }
              />
              <Route path="desktop" element={<Navigate to="/desk" replace />} />
              <Route
                path="work-orders"
                element={
                  <RequirePerm perm="work_orders.read">
                    <WorkOrdersPage />
                  </RequirePerm>
                }
              />
              <Route
                path="work-orders/new"
                element={
                  <RequirePerm perm="work_orders.create">
                    <WorkOrderNewPage />
                  </RequirePerm>
                }
              />
              <Route
                path="work-orders/:id"
                element={
                  <RequirePerm perm="work_orders.read">
                    <WorkOrderDetailPage />
                  </RequirePerm>
                }
              />
              <Route
                path="site/inbox"
                element={
                  <RequirePerm perm="work_orders.read">
                    <SiteInboxPage />
                  </RequirePerm>
                }
              />
              <Route
                path="kb"
                element={
                  <RequirePerm perm="kb.read">
                    <KbBrowserPage />
                  </RequirePerm>
                }
              />
              <Route
                path="kb/new"
                element={
                  <RequirePerm perm="kb.edit">
                    <KbEditorPage />
                  </RequirePerm>
                }
              />
              <Route
                path="kb/admin"
                element={
                  <RequirePerm perm="kb.edit">
                    <KbAdminPage />
                  </RequirePerm>
                }
              />
              <Route
                path="kb/articles/:id"
                element={
                  <RequirePerm perm="kb.read">
                    <KbArticlePage />
                  </RequirePerm>
                }
              />
              <Route
                path="kb/articles/:id/edit"
                element={
                  <RequirePerm perm="kb.edit">
                    <KbEditorPage />
                  </RequirePerm>
                }
              />
              <Route path="knowledge/*" element={<Navigate to="/kb" replace />} />
              <Route
                path="ivr"
                element={
                  <RequirePerm perm="ivr.read">
                    <IvrFlowsPage />
                  </RequirePerm>
                }
              />
              <Route
                path="ivr/flows/:id"
                element={
                  <RequirePerm perm="ivr.read">
                    <IvrDesignerPage />
                  </RequirePerm>
                }
              />
              <Route
                path="ivr/prompts"
                element={
                  <RequirePerm perm="ivr.read">
                    <IvrPromptsPage />
                  </RequirePerm>
                }
              />
              <Route
                path="wallboard"
                element={
                  <RequirePerm perm="acd.reports">
                    <WallboardPage />
                  </RequirePerm>
                }
              />
              <Route path="admin" element={<Navigate to="/admin/users" replace />} />
              <Route
                path="admin/users"
                element={
                  <RequirePerm perm="users.read">
                    <UsersPage />
                  </RequirePerm>
                }
              />
              <Route
                path="admin/audit"
                element={
                  <RequirePerm perm="audit.read">
                    <AuditPage />
                  </RequirePerm>
                }
              />
              <Route
                path="admin/imports"
                element={
                  <RequirePerm perm="imports.run">
                    <ImportsPage />
                  </RequirePerm>
                }
              />
              <Route
                path="admin/work-order-types"
                element={
                  <RequirePerm perm="work_order_types.manage">
                    <WorkOrderTypesPage />
                  </RequirePerm>
                }
              />
              <Route
                path="admin/calendars"
                element={
                  <RequirePerm perm="calendars.manage">
                    <CalendarsPage />
                  </RequirePerm>
                }
              />
              <Route path="403" element={<Forbidden />} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </Suspense>
      </AntApp>
    </ConfigProvider>
  );
}
