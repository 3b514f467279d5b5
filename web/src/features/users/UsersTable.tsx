import { Link } from 'react-router';
import {
  Cell, Column, Row, Table, TableBody, TableHeader, type Key, type Selection, type SortDescriptor,
} from 'react-aria-components';
import type { User } from './api';
import { Check } from '../../components/Check';
import { formatDate, formatDateTime } from '../../lib/format';
import type { SortDescriptor as ListSort } from './listState';

interface Props {
  users: User[];
  sort: ListSort;
  onSort: (sort: SortDescriptor) => void;
  /** With a selection, rows get checkboxes (administrators only). */
  selectable: boolean;
  selected: Selection;
  onSelect: (keys: Selection) => void;
  busy: boolean;
}

function SortableColumn({ id, label, sort, rowHeader = false }: { id: string; label: string; sort: ListSort; rowHeader?: boolean }) {
  return (
    <Column id={id} allowsSorting isRowHeader={rowHeader} className="nowrap">
      {({ sortDirection }) => (
        <>
          {label}{' '}
          <span className="sort-mark" aria-hidden="true">
            {sort.column === id ? (sortDirection === 'descending' ? '▼' : '▲') : '↕'}
          </span>
        </>
      )}
    </Column>
  );
}

/** The users of one page: sortable by the columns the server sorts, rows selectable. */
export function UsersTable({ users, sort, onSort, selectable, selected, onSelect, busy }: Props) {
  return (
    <div className="table-box" aria-busy={busy}>
      <Table aria-label="Users" className="data-table" sortDescriptor={sort} onSortChange={onSort}
        selectionMode={selectable ? 'multiple' : 'none'} selectedKeys={selected} onSelectionChange={onSelect}>
        <TableHeader>
          {selectable && (
            <Column className="select-col">
              <Check slot="selection" />
            </Column>
          )}
          <SortableColumn id="username" label="Username" sort={sort} rowHeader />
          <SortableColumn id="email" label="Email" sort={sort} />
          <Column>Status</Column>
          <Column>Roles</Column>
          <Column className="nowrap">Two-factor</Column>
          <SortableColumn id="date_joined" label="Joined" sort={sort} />
          <SortableColumn id="last_login" label="Last sign-in" sort={sort} />
        </TableHeader>
        <TableBody items={users} renderEmptyState={() => <p className="empty">No users match.</p>}
          dependencies={[selectable]}>
          {(u) => (
            <Row id={u.id as Key} data-username={u.username}>
              {selectable && (
                <Cell>
                  {/* Named "Select <username>" from the row header. */}
                  <Check slot="selection" />
                </Cell>
              )}
              <Cell textValue={u.username}>
                <Link to={`/users/${encodeURIComponent(u.id)}`}>{u.username}</Link>
                {u.is_superuser && <span className="badge warn">superuser</span>}
              </Cell>
              <Cell>
                {u.email || '—'}
                {u.email && !u.email_verified && <span className="badge">unverified</span>}
              </Cell>
              <Cell>
                <span className={u.is_active ? 'status-active' : 'status-inactive'}>{u.is_active ? 'active' : 'inactive'}</span>
              </Cell>
              <Cell>{u.roles.join(', ') || '—'}</Cell>
              <Cell>{u.has_2fa ? 'on' : 'off'}</Cell>
              <Cell className="nowrap">{formatDate(u.date_joined)}</Cell>
              <Cell className="nowrap">{formatDateTime(u.last_login, 'never')}</Cell>
            </Row>
          )}
        </TableBody>
      </Table>
    </div>
  );
}
