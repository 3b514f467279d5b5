import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Tab, TabList, TabPanel, Tabs, type Key } from 'react-aria-components';
import { Notice } from '../../components/Notice';
import { RecordLoading } from '../../components/QueryState';
import { usePageTitle } from '../../components/Page';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { userQuery } from './api';
import { DetailsTab } from './DetailsTab';
import { HistoryTab } from './HistoryTab';
import { RolesTab } from './RolesTab';
import { SecurityTab } from './SecurityTab';
import { SessionsTab } from './SessionsTab';
import './users.css';

const TABS = [
  { id: 'details', label: 'Details' },
  { id: 'roles', label: 'Roles' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'security', label: 'Security' },
  { id: 'history', label: 'History', permission: 'audit.view' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/** One user: a tab per concern, the open tab kept in the URL (`?tab=roles`). */
export function UserPage() {
  const { id = '' } = useParams();
  const { user: me } = useAuth();
  const [params, setParams] = useSearchParams();
  const created = (useLocation().state as { created?: string } | null)?.created ?? null;
  const user = useQuery(userQuery(id));
  usePageTitle(user.data ? `${user.data.username} · Users` : null);
  const canManage = hasPermission(me, 'users.manage');
  const tabs = TABS.filter((t) => !('permission' in t) || hasPermission(me, t.permission));
  const asked = params.get('tab');
  const tab: TabId = tabs.find((t) => t.id === asked)?.id ?? 'details';
  const choose = (key: Key) => setParams(key === 'details' ? {} : { tab: String(key) }, { replace: true });

  const u = user.data;
  if (!u) {
    return (
      <RecordLoading query={user} title="User" what="the user" back={<Link to="/users">← Users</Link>}
        missing={{ title: 'No such user', text: 'There is no user with this id.' }} />
    );
  }

  const self = me?.id === u.id;
  return (
    <section className="card" aria-labelledby="user-title">
      <p className="crumbs"><Link to="/users">← Users</Link></p>
      <h1 id="user-title">
        {u.username}
        {u.is_superuser && <span className="badge warn">superuser</span>}
        {!u.is_active && <span className="badge danger">inactive</span>}
        {self && <span className="badge">you</span>}
      </h1>
      <Notice success={created} />
      <Tabs className="tabs" selectedKey={tab} onSelectionChange={choose}>
        <TabList aria-label="About this user">
          {tabs.map((t) => <Tab key={t.id} id={t.id}>{t.label}</Tab>)}
        </TabList>
        <TabPanel id="details"><DetailsTab user={u} canManage={canManage} self={self} /></TabPanel>
        <TabPanel id="roles"><RolesTab user={u} canManage={canManage} /></TabPanel>
        <TabPanel id="sessions"><SessionsTab user={u} canManage={canManage} /></TabPanel>
        <TabPanel id="security"><SecurityTab user={u} canManage={canManage} /></TabPanel>
        {tabs.some((t) => t.id === 'history') && <TabPanel id="history"><HistoryTab user={u} /></TabPanel>}
      </Tabs>
    </section>
  );
}
