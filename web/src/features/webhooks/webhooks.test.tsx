import { describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeServer, json, renderPage, renderRoutes, signedInEachTest, userFixture, type Call } from '../../test-utils';
import { AppRoutes } from '../../app/App';
import { Layout } from '../../app/Layout';
import type { Delivery, EventType, Webhook } from './api';
import { logSearchParams, parseLogState, replayedText } from './deliveryLog';
import { NewWebhookPage } from './NewWebhookPage';
import { WebhookPage } from './WebhookPage';
import { WebhooksPage } from './WebhooksPage';

const admin = userFixture({ id: 'me', username: 'root', permissions: ['webhooks.manage', 'audit.view'] });
const eventTypes: EventType[] = [
  { name: 'user.created', description: 'An account was registered, created by an administrator or imported.' },
  { name: 'session.revoked', description: 'A session ended.' },
  { name: 'password.changed', description: 'A password was changed or reset.' },
];
const crm: Webhook = {
  id: 'w1', url: 'https://crm.example/hooks/authenticon', description: 'CRM sync', events: ['user.created', 'session.revoked'],
  format: 'standard', enabled: true, created: '2026-03-01T10:00:00Z', updated: '2026-03-01T10:00:00Z',
};
const delivery = (over: Partial<Delivery> = {}): Delivery => ({
  id: 'msg_1', event: 'user.created', payload: { type: 'user.created', data: { username: 'bob' } } as unknown as Delivery['payload'],
  status: 'dead', attempts: 1, created: '2026-03-02T09:00:00Z', next_attempt: null, last_attempt: '2026-03-02T09:00:01Z',
  last_status: 400, last_error: 'answered 400 Bad Request', delivered: null, ...over,
});
const page = (results: Delivery[], more: Partial<{ count: number; next: string | null; previous: string | null }> = {}) =>
  ({ count: results.length, next: null, previous: null, results, ...more });

const open = (route: string) => renderRoutes({
  '/webhooks': <WebhooksPage />, '/webhooks/new': <NewWebhookPage />, '/webhooks/:id': <WebhookPage />,
}, { route, auth: true });

signedInEachTest(admin);
let calls: Call[];
const serve = (answers: Parameters<typeof fakeServer>[0], otherwise?: Parameters<typeof fakeServer>[1]) => {
  calls = fakeServer(answers, otherwise);
};
const posts = () => calls.filter((c) => c.method === 'POST');

describe('the list of endpoints', () => {
  it('shows each endpoint’s URL, events, whether it is on and when it was added', async () => {
    serve({
      'GET /api/webhooks/': () => json(200, [crm, { ...crm, id: 'w2', url: 'http://127.0.0.1:9000/in', description: '', events: ['password.changed'], enabled: false }]),
    });
    open('/webhooks');
    const list = within(await screen.findByTestId('webhooks'));
    const rows = list.getAllByRole('listitem');
    expect(rows).toHaveLength(2);
    const first = within(rows[0]!);
    expect(first.getByRole('link', { name: 'https://crm.example/hooks/authenticon' }).getAttribute('href')).toBe('/webhooks/w1');
    expect(first.getByText('CRM sync')).toBeTruthy();
    expect(first.getByText('enabled')).toBeTruthy();
    expect(rows[0]!.textContent).toContain('user.created, session.revoked');
    expect(within(rows[1]!).getByText('disabled')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Add endpoint' }).getAttribute('href')).toBe('/webhooks/new');
  });

  it('says so when there are none', async () => {
    serve({ 'GET /api/webhooks/': () => json(200, []) });
    open('/webhooks');
    expect(await screen.findByText(/No endpoints yet/)).toBeTruthy();
  });
});

describe('adding an endpoint', () => {
  it('shows the server’s errors at their fields, then posts the form and shows the secret once', async () => {
    let attempt = 0;
    serve({
      'GET /api/webhooks/event-types/': () => json(200, eventTypes),
      'POST /api/webhooks/': () => (++attempt === 1
        ? json(400, { url: ['Enter an http or https URL.'], events: ['Choose at least one event type.'] })
        : json(201, { ...crm, secret: 'whsec_c2VjcmV0' })),
      'GET /api/webhooks/w1/': () => json(200, crm),
    }, () => json(200, page([])));
    open('/webhooks/new');
    // Each event type is offered with what it reports.
    const events = await screen.findByRole('group', { name: 'Events' });
    expect(await within(events).findByRole('checkbox', { name: /^user\.created An account was registered/ })).toBeTruthy();
    expect(within(events).getAllByRole('checkbox')).toHaveLength(3);

    await userEvent.type(screen.getByLabelText('URL'), 'ftp://crm.example');
    await userEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(await screen.findByText('Enter an http or https URL.')).toBeTruthy();
    expect(screen.getByLabelText('URL').getAttribute('aria-invalid')).toBe('true');
    const eventsError = screen.getByText('Choose at least one event type.');
    // The group's error is read with the group.
    expect(events.getAttribute('aria-describedby')).toContain(eventsError.closest('[id]')!.id);
    expect(screen.queryByTestId('webhook-secret')).toBeNull();

    const url = screen.getByLabelText('URL');
    await userEvent.clear(url);
    await userEvent.type(url, ' https://crm.example/hooks/authenticon ');
    await userEvent.type(screen.getByLabelText('Description'), 'CRM sync');
    await userEvent.click(within(events).getByRole('checkbox', { name: /^user\.created/ }));
    await userEvent.click(within(events).getByRole('checkbox', { name: /^session\.revoked/ }));
    expect(screen.getByRole('switch', { name: 'Enabled' })).toHaveProperty('checked', true);
    await userEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));

    expect((await screen.findByTestId('webhook-secret')).textContent).toBe('whsec_c2VjcmV0');
    expect(posts().at(-1)?.body).toEqual({
      url: 'https://crm.example/hooks/authenticon', description: 'CRM sync', events: ['user.created', 'session.revoked'], enabled: true,
      format: 'standard',
    });
    expect(screen.getByTestId('secret-step').textContent).toContain('webhook-signature');
    expect(screen.getByTestId('secret-step').textContent).toContain('Standard Webhooks');
    expect(screen.getByRole('button', { name: 'Copy the secret' })).toBeTruthy();

    // Not before it is stored: then the endpoint's page, and the secret is gone.
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.getByText(/Tick the box once the secret is stored/)).toBeTruthy();
    await userEvent.click(screen.getByRole('checkbox', { name: 'I have stored the secret' }));
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'CRM sync' })).toBeTruthy();
    expect(screen.getByText(/The endpoint is added/)).toBeTruthy();
    expect(screen.queryByTestId('webhook-secret')).toBeNull();
    expect(screen.queryByText('whsec_c2VjcmV0')).toBeNull();
  });

  it('sends a disabled endpoint as disabled', async () => {
    serve({
      'GET /api/webhooks/event-types/': () => json(200, eventTypes),
      'POST /api/webhooks/': () => json(201, { ...crm, enabled: false, secret: 'whsec_x' }),
    });
    open('/webhooks/new');
    await userEvent.type(screen.getByLabelText('URL'), 'https://crm.example/in');
    await userEvent.click(await screen.findByRole('checkbox', { name: /^password\.changed/ }));
    await userEvent.click(screen.getByRole('switch', { name: 'Enabled' }));
    expect(screen.getByText(/Off: nothing is sent/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    await screen.findByTestId('webhook-secret');
    expect(posts().at(-1)?.body).toEqual({
      url: 'https://crm.example/in', description: '', events: ['password.changed'], enabled: false, format: 'standard',
    });
  });

  it('registers a Security Event Token endpoint with only the events it can carry, and no secret to show', async () => {
    const sets: Webhook = { ...crm, id: 'w9', description: 'Shared Signals', format: 'set', events: ['session.revoked'] };
    serve({
      'GET /api/webhooks/event-types/': () => json(200, eventTypes),
      'POST /api/webhooks/': () => json(201, sets),
      'GET /api/webhooks/w9/': () => json(200, sets),
    }, () => json(200, page([])));
    open('/webhooks/new');
    await userEvent.type(screen.getByLabelText('URL'), 'https://ssf.example/events');
    await userEvent.click(await screen.findByRole('checkbox', { name: /^user\.created/ }));
    await userEvent.click(screen.getByRole('checkbox', { name: /^session\.revoked/ }));
    await userEvent.click(screen.getByRole('radio', { name: /^Security Event Tokens/ }));
    // What has no Security Event Token is dropped, and says why.
    const userCreated = screen.getByRole('checkbox', { name: /^user\.created No Security Event Token exists for it/ });
    expect(userCreated.hasAttribute('disabled')).toBe(true);
    expect(userCreated).toHaveProperty('checked', false);
    await userEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(posts().at(-1)?.body).toEqual({
      url: 'https://ssf.example/events', description: '', events: ['session.revoked'], enabled: true, format: 'set',
    });
    // No secret: straight to its page, where there is none to rotate.
    expect(await screen.findByRole('heading', { level: 1, name: 'Shared Signals' })).toBeTruthy();
    expect(screen.queryByTestId('webhook-secret')).toBeNull();
    await userEvent.click(screen.getByRole('tab', { name: 'Settings' }));
    expect(await screen.findByText(/verify them\s+against the published JWKS/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Rotate secret…' })).toBeNull();
    expect(screen.getByRole('radio', { name: /^Security Event Tokens/ }).hasAttribute('disabled')).toBe(true);
  });
});

/** The endpoint's page: the endpoint, the event types, and its log from `deliveries` (by the URL's query). */
function serveEndpoint(deliveries: (query: URLSearchParams) => ReturnType<typeof page>, more: Parameters<typeof fakeServer>[0] = {}) {
  serve({
    'GET /api/webhooks/w1/': () => json(200, crm),
    'GET /api/webhooks/event-types/': () => json(200, eventTypes),
    ...more,
  }, (call) => {
    const url = new URL(call.url, 'http://console');
    if (call.method === 'GET' && url.pathname === '/api/webhooks/w1/deliveries/') return json(200, deliveries(url.searchParams));
    return json(404, { detail: 'Not found.' });
  });
}

describe('an endpoint’s delivery log', () => {
  it('shows each delivery: event, status, attempts, last status and error, times, the payload as formatted JSON', async () => {
    const dead = delivery();
    const delivered = delivery({
      id: 'msg_2', event: 'session.revoked', status: 'delivered', attempts: 2, last_status: 204, last_error: '',
      delivered: '2026-03-02T09:05:00Z',
    });
    serveEndpoint((q) => (q.get('status') === 'dead' ? page([dead]) : page([delivered, dead])));
    open('/webhooks/w1');
    const log = within(await screen.findByTestId('deliveries'));
    const [first, second] = log.getAllByRole('listitem');
    expect(within(first!).getByText('session.revoked')).toBeTruthy();
    expect(within(first!).getByText('delivered')).toBeTruthy();
    expect(first!.textContent).toContain('HTTP 204');
    expect(within(first!).queryByRole('button', { name: /^Replay/ })).toBeNull();
    expect(within(second!).getByText('dead')).toBeTruthy();
    expect(second!.textContent).toContain('HTTP 400');
    expect(second!.textContent).toContain('answered 400 Bad Request');
    expect(screen.getByText('2 deliveries')).toBeTruthy();

    await userEvent.click(within(second!).getByText('Payload'));
    const payload = within(second!).getByRole('region', { name: /^Payload of user\.created/ });
    expect(payload.textContent).toBe(JSON.stringify(dead.payload, null, 2));
    expect(payload.closest('details')?.open).toBe(true);
  });

  it('filters by status and pages through', async () => {
    const older = delivery({ id: 'msg_0', event: 'password.changed' });
    serveEndpoint((q) => {
      if (q.get('page_size') === '1') return page([older], { count: 21 });
      return q.get('page') === '2'
        ? page([older], { count: 21, previous: '/api/webhooks/w1/deliveries/?status=dead' })
        : page([delivery()], { count: 21, next: '/api/webhooks/w1/deliveries/?status=dead&page=2' });
    });
    open('/webhooks/w1');
    await screen.findByTestId('deliveries');
    await userEvent.click(screen.getByRole('radio', { name: 'Dead' }));
    expect(await screen.findByText('21 dead deliveries')).toBeTruthy();
    expect(calls.some((c) => c.url === '/api/webhooks/w1/deliveries/?status=dead&page=1')).toBe(true);
    expect(screen.getByText('Page 1 of 2')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('password.changed', { selector: 'code' })).toBeTruthy();
    expect(calls.at(-1)?.url).toBe('/api/webhooks/w1/deliveries/?status=dead&page=2');
    expect(screen.getByText('Page 2 of 2')).toBeTruthy();
  });

  it('replays one dead delivery, and all of them, at their URLs', async () => {
    let status: Delivery['status'] = 'dead';
    serveEndpoint(() => page([delivery({ status })]), {
      'POST /api/webhooks/w1/deliveries/msg_1/replay/': () => {
        status = 'delivered';
        return json(200, { replayed: 1 });
      },
      'POST /api/webhooks/w1/replay/': () => json(200, { replayed: 3 }),
    });
    open('/webhooks/w1');
    const log = await screen.findByTestId('deliveries');
    expect(screen.getByRole('button', { name: 'Replay all dead (1)' })).toBeTruthy();
    await userEvent.click(within(log).getByRole('button', { name: /^Replay user\.created/ }));
    expect(await screen.findByText('The delivery is sent again, in its turn.')).toBeTruthy();
    expect(posts().map((c) => c.url)).toEqual(['/api/webhooks/w1/deliveries/msg_1/replay/']);
    // The log reloads: the delivery is no longer dead, and focus is on what happened.
    await vi.waitFor(() => expect(within(log).getByText('delivered')).toBeTruthy());
    expect(document.activeElement?.textContent).toBe('The delivery is sent again, in its turn.');

    status = 'dead';
    await userEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Replay all dead (1)' }));
    expect(await screen.findByText('3 dead deliveries are sent again, in their turn.')).toBeTruthy();
    expect(posts().at(-1)?.url).toBe('/api/webhooks/w1/replay/');
  });

  it('says when there is nothing yet', async () => {
    serveEndpoint(() => page([]));
    open('/webhooks/w1');
    expect(await screen.findByText(/No deliveries yet/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Replay all dead/ })).toBeNull();
  });
});

describe('an endpoint’s settings', () => {
  it('saves changes with the whole endpoint, and shows the server’s errors at their fields', async () => {
    let refuse = true;
    serveEndpoint(() => page([]), {
      'PATCH /api/webhooks/w1/': () => (refuse
        ? json(400, { url: ['Credentials do not belong in the URL: deliveries are signed.'] })
        : json(200, { ...crm, enabled: false, updated: '2026-03-03T00:00:00Z' })),
    });
    open('/webhooks/w1?tab=settings');
    const url = await screen.findByLabelText('URL');
    await userEvent.clear(url);
    await userEvent.type(url, 'https://me:pw@crm.example/in');
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Credentials do not belong in the URL: deliveries are signed.')).toBeTruthy();
    expect(screen.getByLabelText('URL').getAttribute('aria-invalid')).toBe('true');

    refuse = false;
    await userEvent.clear(screen.getByLabelText('URL'));
    await userEvent.type(screen.getByLabelText('URL'), crm.url);
    await userEvent.click(await screen.findByRole('checkbox', { name: /^session\.revoked/ }));
    await userEvent.click(screen.getByRole('switch', { name: 'Enabled' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Changes saved.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({
      url: crm.url, description: 'CRM sync', events: ['user.created'], enabled: false,
    });
  });

  it('rotates the secret after a confirmation, and shows the new one once', async () => {
    serveEndpoint(() => page([]), {
      'POST /api/webhooks/w1/rotate-secret/': () => json(200, { ...crm, secret: 'whsec_bmV3' }),
    });
    open('/webhooks/w1?tab=settings');
    await userEvent.click(await screen.findByRole('button', { name: 'Rotate secret…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Rotate the signing secret?' });
    expect(dialog.textContent).toContain('stops signing at once');
    expect(posts()).toEqual([]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Rotate secret' }));
    expect((await screen.findByTestId('webhook-secret')).textContent).toBe('whsec_bmV3');
    expect(screen.getByText(/The old secret has stopped signing/)).toBeTruthy();
    expect(posts().map((c) => c.url)).toEqual(['/api/webhooks/w1/rotate-secret/']);
    await userEvent.click(screen.getByRole('checkbox', { name: 'I have stored the secret' }));
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(await screen.findByText('The new secret is in use.')).toBeTruthy();
    expect(screen.queryByTestId('webhook-secret')).toBeNull();
  });

  it('deletes after a confirmation saying the log goes with it', async () => {
    serveEndpoint(() => page([]), {
      'DELETE /api/webhooks/w1/': () => new Response(null, { status: 204 }),
      'GET /api/webhooks/': () => json(200, []),
    });
    open('/webhooks/w1?tab=settings');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete endpoint…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete CRM sync?' });
    expect(dialog.textContent).toContain('delivery log goes with it');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete endpoint' }));
    expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/webhooks/w1/')).toBe(true);
    // The list opens, saying so.
    expect(await screen.findByText('CRM sync is deleted.')).toBeTruthy();
  });
});

describe('the navigation', () => {
  const app = (route: string) => renderPage(<Layout><AppRoutes /></Layout>, { route, auth: true });
  const navLinks = async () => [...(await screen.findByRole('navigation', { name: 'Main' })).querySelectorAll('a')].map((a) => a.textContent);

  describe('without webhooks.manage', () => {
    signedInEachTest(userFixture({ permissions: ['clients.manage', 'audit.view'] }));

    it('offers no Webhooks entry, and the page says it is not for them', async () => {
      serve({ 'GET /api/webhooks/': () => json(200, [crm]) });
      app('/webhooks');
      const links = await navLinks();
      expect(links).toContain('Applications');
      expect(links).not.toContain('Webhooks');
      expect(await screen.findByText(/You do not have permission to see this page/)).toBeTruthy();
      expect(calls.some((c) => c.url.startsWith('/api/webhooks/'))).toBe(false);
    });
  });

  describe('with webhooks.manage but not audit.view (what an endpoint hears of is the audit log)', () => {
    signedInEachTest(userFixture({ permissions: ['webhooks.manage'] }));

    it('offers no Webhooks entry either', async () => {
      serve({ 'GET /api/webhooks/': () => json(200, [crm]) });
      app('/webhooks');
      expect(await navLinks()).not.toContain('Webhooks');
      expect(await screen.findByText(/You do not have permission to see this page/)).toBeTruthy();
    });
  });

  describe('with both', () => {
    signedInEachTest(admin);

    it('offers Webhooks', async () => {
      serve({ 'GET /api/webhooks/': () => json(200, [crm]) });
      app('/webhooks');
      expect(await navLinks()).toContain('Webhooks');
      expect(await screen.findByRole('link', { name: crm.url })).toBeTruthy();
    });
  });
});

describe('the log’s state in the URL', () => {
  it('reads what it can mean, and writes only what is not the default', () => {
    expect(parseLogState(new URLSearchParams('status=dead&page=3'))).toEqual({ status: 'dead', page: 3 });
    expect(parseLogState(new URLSearchParams('status=lost&page=-1'))).toEqual({ status: null, page: 1 });
    expect(logSearchParams({ status: null, page: 1 }).toString()).toBe('');
    expect(logSearchParams({ status: 'pending', page: 2 }).toString()).toBe('status=pending&page=2');
    expect(replayedText(1, null)).toBe('1 dead delivery is sent again, in its turn.');
    expect(replayedText(0, null)).toBe('There was no dead delivery to send again.');
  });
});
