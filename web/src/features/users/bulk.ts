// Actions over the rows selected in the users list. Each user is one request, sent one
// after the other: a refusal for one user (bounded delegation, the last superuser)
// neither stops the others nor hides among them.

import { messageOf } from '../../lib/api/errors';
import type { User } from './api';

export type BulkAction = { kind: 'deactivate' } | { kind: 'assign-role'; role: string };

export type StepResult = 'done' | 'skipped';

export interface BulkOutcome {
  done: number;
  /** Nothing to do for them (already inactive, already holding the role). */
  skipped: number;
  failed: { username: string; message: string }[];
}

export async function runBulk(users: User[], step: (u: User) => Promise<StepResult>): Promise<BulkOutcome> {
  const out: BulkOutcome = { done: 0, skipped: 0, failed: [] };
  for (const u of users) {
    try {
      out[await step(u)] += 1;
    } catch (err) {
      out.failed.push({ username: u.username, message: messageOf(err, 'The server could not be reached.') });
    }
  }
  return out;
}

const users = (n: number) => `${n} user${n === 1 ? '' : 's'}`;

/** The confirmation's question, naming how many users it changes. */
export function bulkQuestion(action: BulkAction, count: number): string {
  return action.kind === 'deactivate'
    ? `Deactivate ${users(count)}?`
    : `Give the role “${action.role}” to ${users(count)}?`;
}

/** Who the confirmation names: the first ten, then how many more. */
export function namesOf(usernames: string[], shown = 10): string {
  const rest = usernames.length - shown;
  return rest > 0 ? `${usernames.slice(0, shown).join(', ')} and ${rest} more` : usernames.join(', ');
}

/** One sentence for what a bulk action did (failures are listed apart). */
export function bulkSummary(action: BulkAction, o: BulkOutcome): string {
  const verb = action.kind === 'deactivate' ? 'Deactivated' : `Gave “${action.role}” to`;
  const parts = [`${verb} ${users(o.done)}.`];
  if (o.skipped) {
    const why = action.kind === 'deactivate' ? `${o.skipped === 1 ? 'was' : 'were'} already inactive` : 'already held it';
    parts.push(`${users(o.skipped)} ${why}.`);
  }
  if (o.failed.length) parts.push(`${users(o.failed.length)} could not be changed.`);
  return parts.join(' ');
}
