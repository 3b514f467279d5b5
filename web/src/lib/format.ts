// How dates and counts read in the app: the viewer's locale and time zone.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export const formatDateTime = (iso: string | null | undefined, none = '—') =>
  iso ? dateTime.format(new Date(iso)) : none;

export const formatDate = (iso: string | null | undefined, none = '—') => (iso ? dateOnly.format(new Date(iso)) : none);

/** Unix seconds (passkeys) as a date and time. */
export const formatUnix = (secs: number | null | undefined, none = '—') =>
  secs == null ? none : dateTime.format(new Date(secs * 1000));

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
