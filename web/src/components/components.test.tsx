import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { Link, MemoryRouter, Route, Routes } from 'react-router';
import { ApiError } from '../lib/api/errors';
import { ConfirmDialog } from './ConfirmDialog';
import { documentTitle, RouteView, useFocusHeadingOnNavigate, usePageTitle } from './Page';
import { PasswordField } from './PasswordRules';
import { QueryState } from './QueryState';
import { initialShownOnce, shownOnceReducer } from './shownOnce';

afterEach(() => vi.unstubAllGlobals());

describe('ConfirmDialog', () => {
  it('asks first; Cancel (focused first when destructive) does nothing, confirming closes then acts', async () => {
    const onConfirm = vi.fn();
    render(
      <ConfirmDialog trigger="Remove" triggerAriaLabel="Remove passkey Laptop" title="Remove the passkey?"
        confirmLabel="Remove passkey" destructive onConfirm={onConfirm}>
        <p>It will no longer sign you in.</p>
      </ConfirmDialog>,
    );
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Remove passkey Laptop' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove the passkey?' });
    expect(dialog.textContent).toContain('It will no longer sign you in.');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('button', { name: 'Remove passkey' }).className).toContain('danger');
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(onConfirm).not.toHaveBeenCalled();

    await user.click(screen.getByRole('button', { name: 'Remove passkey Laptop' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(onConfirm).not.toHaveBeenCalled();

    await user.click(screen.getByRole('button', { name: 'Remove passkey Laptop' }));
    await user.click(screen.getByRole('button', { name: 'Remove passkey' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it('can be opened by the page instead of a trigger', async () => {
    function Page() {
      const [open, setOpen] = useState(false);
      return (
        <>
          <button type="button" onClick={() => setOpen(true)}>Delete</button>
          <ConfirmDialog isOpen={open} onOpenChange={setOpen} title="Delete it?" confirmLabel="Delete" onConfirm={() => {}}>
            <p>Gone for good.</p>
          </ConfirmDialog>
        </>
      );
    }
    render(<Page />);
    await userEvent.click(screen.getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete it?' });
    // Not destructive: the confirming button is focused first.
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Delete' }));
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });
});

describe('PasswordField', () => {
  it('shows the rules, tied to the input, following what is typed', async () => {
    function Form() {
      const [value, setValue] = useState('');
      return <PasswordField label="New password" value={value} onChange={setValue} username="alice" />;
    }
    render(<Form />);
    const input = screen.getByLabelText('New password');
    const rules = screen.getByTestId('password-rules');
    expect(input.getAttribute('aria-describedby')).toContain(rules.id);
    const state = (rule: string) => rules.querySelector(`[data-rule="${rule}"]`)?.getAttribute('data-state');
    await userEvent.type(input, '1234');
    expect([state('length'), state('numeric'), state('similar'), state('common')]).toEqual(['failed', 'failed', 'met', 'server']);
    expect(rules.querySelector('[data-rule="length"]')?.textContent).toContain('(not met)');
    await userEvent.type(input, 'abcd');
    expect([state('length'), state('numeric')]).toEqual(['met', 'met']);
  });
});

describe('QueryState', () => {
  const base = { data: undefined, error: null, isFetching: false, refetch: vi.fn() };

  it('shows loading, then the content, or the empty state', () => {
    const { rerender } = render(<QueryState query={base} what="roles">{() => 'content'}</QueryState>);
    expect(screen.getByRole('status').textContent).toBe('Loading roles…');
    rerender(<QueryState query={{ ...base, data: ['a'] }} what="roles">{(d) => `content ${d.join()}`}</QueryState>);
    expect(screen.getByText('content a')).toBeTruthy();
    rerender(<QueryState query={{ ...base, data: [] as string[] }} what="roles" isEmpty={(d) => d.length === 0}
      empty={<p>No roles yet.</p>}>{() => 'content'}</QueryState>);
    expect(screen.getByText('No roles yet.')).toBeTruthy();
  });

  it('offers to try again when the server was unreachable or failing, not when it refused', async () => {
    const refetch = vi.fn();
    const { rerender } = render(
      <QueryState query={{ ...base, error: new TypeError('Failed to fetch'), refetch }} what="roles">{() => null}</QueryState>,
    );
    expect(screen.getByRole('alert').textContent).toContain('Could not load roles: the server could not be reached.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(refetch).toHaveBeenCalledTimes(1);
    rerender(<QueryState query={{ ...base, error: new ApiError(503, null), refetch }} what="roles">{() => null}</QueryState>);
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    rerender(<QueryState query={{ ...base, error: new ApiError(403, { detail: 'You do not have permission to perform this action.' }), refetch }}
      what="roles">{() => null}</QueryState>);
    expect(screen.getByRole('alert').textContent).toBe('You do not have permission to perform this action.');
    expect(screen.queryByRole('button', { name: 'Try again' })).toBeNull();
  });
});

describe('page titles and focus', () => {
  function Shell({ children }: { children: React.ReactNode }) {
    useFocusHeadingOnNavigate();
    return (
      <>
        <nav><Link to="/users">Users</Link><Link to="/login">Sign in</Link></nav>
        <main id="main">{children}</main>
      </>
    );
  }
  function Sub() {
    usePageTitle('Password saved');
    return <h1>Saved</h1>;
  }
  const app = (start: string) => (
    <MemoryRouter initialEntries={[start]}>
      <Shell>
        <Routes>
          <Route path="/" element={<RouteView title="Dashboard"><h1>Dashboard</h1></RouteView>} />
          <Route path="/users" element={<RouteView title="Users"><h1>Users</h1></RouteView>} />
          <Route path="/login" element={<RouteView title="Sign in"><h1>Sign in</h1><input aria-label="Username" autoFocus /></RouteView>} />
          <Route path="/saved" element={<RouteView title="Choose a password"><Sub /></RouteView>} />
        </Routes>
      </Shell>
    </MemoryRouter>
  );

  it('names the document after the page, or its current state', async () => {
    const { unmount } = render(app('/'));
    await waitFor(() => expect(document.title).toBe('Dashboard · Authenticon'));
    unmount();
    render(app('/saved'));
    await waitFor(() => expect(document.title).toBe('Password saved · Authenticon'));
    expect(documentTitle(null)).toBe('Authenticon');
  });

  it('moves focus to the new page\'s heading after navigation, not on first load, not out of a field', async () => {
    render(app('/'));
    expect(document.activeElement).toBe(document.body);
    await userEvent.click(screen.getByRole('link', { name: 'Users' }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Users' })));
    expect(document.title).toBe('Users · Authenticon');
    await act(async () => { await userEvent.click(screen.getByRole('link', { name: 'Sign in' })); });
    // The page put the cursor in its field: it stays there.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Username')));
  });
});

describe('the shown-once step', () => {
  it('does not move on until "I have saved them" is ticked', () => {
    const tried = shownOnceReducer(initialShownOnce, { type: 'finish' });
    expect(tried).toMatchObject({ finished: false, nudged: true });
    const ticked = shownOnceReducer(tried, { type: 'saved', saved: true });
    expect(ticked).toMatchObject({ saved: true, nudged: false });
    expect(shownOnceReducer(ticked, { type: 'finish' })).toMatchObject({ finished: true });
    expect(shownOnceReducer(shownOnceReducer(ticked, { type: 'saved', saved: false }), { type: 'finish' }))
      .toMatchObject({ finished: false, nudged: true });
  });
});
