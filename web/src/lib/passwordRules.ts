// The server's password rules (Django's validators), as far as they can run in the
// browser, for live feedback while typing. The server stays the judge: the common-password
// list is its alone, and its messages replace these once it has answered.

/** Python's difflib quick_ratio: 2·(multiset intersection)/(total length). */
export function quickRatio(a: string, b: string): number {
  const as = [...a];
  const bs = [...b];
  const total = as.length + bs.length;
  if (total === 0) return 1;
  const avail = new Map<string, number>();
  for (const c of bs) avail.set(c, (avail.get(c) ?? 0) + 1);
  let matches = 0;
  for (const c of as) {
    const n = avail.get(c) ?? 0;
    if (n > 0) {
      avail.set(c, n - 1);
      matches += 1;
    }
  }
  return (2 * matches) / total;
}

export const MIN_LENGTH = 8;
const MAX_SIMILARITY = 0.7;

/** What the password is compared with, as the server's similarity validator does. */
export interface PasswordContext {
  username?: string;
  email?: string;
}

/** The attribute `password` is too like (UserAttributeSimilarityValidator), or null. */
export function similarAttribute(password: string, { username = '', email = '' }: PasswordContext): 'username' | 'email address' | null {
  const pw = password.toLowerCase();
  const pwLength = [...pw].length;
  for (const [name, raw] of [['username', username], ['email address', email]] as const) {
    const value = raw.toLowerCase();
    if (!value) continue;
    const parts = [...value.split(/[^\p{L}\p{N}_]/u), value];
    // Django skips a part much shorter than the password: a long passphrase that merely
    // contains the name is not "similar".
    const tooShortToMatter = (part: string) => {
      const n = [...part].length;
      return pwLength >= 10 * n && n < (MAX_SIMILARITY / 2) * pwLength;
    };
    if (parts.some((part) => !tooShortToMatter(part) && quickRatio(pw, part) >= MAX_SIMILARITY)) return name;
  }
  return null;
}

export const tooShort = (password: string) => [...password].length < MIN_LENGTH;
export const entirelyNumeric = (password: string) => /^\p{N}+$/u.test(password);

export type RuleId = 'length' | 'numeric' | 'similar' | 'common';
/** `met` and `failed` while typing; `server` for a rule only the server can check. */
export type RuleState = 'met' | 'failed' | 'pending' | 'server';

export interface Rule {
  id: RuleId;
  label: string;
  state: RuleState;
}

/**
 * Each rule with its state for `password`. An empty password leaves every rule pending;
 * the similarity rule is checked only when there is something to compare with.
 */
export function passwordRules(password: string, context: PasswordContext = {}): Rule[] {
  const typed = password.length > 0;
  const comparable = !!(context.username || context.email);
  const state = (failed: boolean): RuleState => (!typed ? 'pending' : failed ? 'failed' : 'met');
  return [
    { id: 'length', label: `At least ${MIN_LENGTH} characters`, state: state(tooShort(password)) },
    { id: 'numeric', label: 'Not only digits', state: state(entirelyNumeric(password)) },
    {
      id: 'similar',
      label: context.email ? 'Not too like your username or email address' : 'Not too like your username',
      state: comparable ? state(similarAttribute(password, context) !== null) : 'server',
    },
    { id: 'common', label: 'Not a commonly used password', state: 'server' },
  ];
}

/** The server's messages for the rules `password` breaks (empty while nothing is typed). */
export function passwordProblems(password: string, context: PasswordContext | string = {}): string[] {
  const ctx = typeof context === 'string' ? { username: context } : context;
  const problems: string[] = [];
  if (!password) return problems;
  const similar = similarAttribute(password, ctx);
  if (similar) problems.push(`The password is too similar to the ${similar}.`);
  if (tooShort(password)) problems.push(`This password is too short. It must contain at least ${MIN_LENGTH} characters.`);
  if (entirelyNumeric(password)) problems.push('This password is entirely numeric.');
  return problems;
}
