// The overview's numbers, shaped for charts: a fixed order and a label for each series,
// a readable label for each bucket, and where in the audit log each series comes from.

import type { components } from '../../lib/api/schema';

export type Summary = components['schemas']['AuditSummary'];
export type Period = '24h' | '30d';

export const PERIODS: { id: Period; label: string; span: string }[] = [
  { id: '24h', label: 'Last 24 hours', span: 'in the last 24 hours' },
  { id: '30d', label: 'Last 30 days', span: 'in the last 30 days' },
];

export const parsePeriod = (v: string | null): Period => (v === '30d' ? '30d' : '24h');

/** The series in the order shown, with what to call them; `alarm` ones want attention when not zero. */
export const SERIES: { event: string; label: string; alarm?: boolean }[] = [
  { event: 'login', label: 'Sign-ins' },
  { event: 'login_failed', label: 'Failed sign-ins' },
  { event: 'throttled', label: 'Throttled attempts' },
  { event: 'refresh_reuse_detected', label: 'Refresh-token reuse alarms', alarm: true },
  { event: 'register', label: 'New users' },
];

export interface Series {
  event: string;
  label: string;
  alarm: boolean;
  counts: number[];
  total: number;
  max: number;
  /** The busiest bucket, or null when there was nothing. */
  peak: { index: number; count: number } | null;
  /** The audit log filtered to this series over the period. */
  href: string;
}

export interface Shaped {
  period: Period;
  buckets: string[];
  labels: string[];
  series: Series[];
}

/** "14:00" for an hour, "12 Jan" for a day, in the viewer's time zone. */
export function bucketLabel(iso: string, bucketSeconds: number, locale?: string): string {
  const d = new Date(iso);
  return bucketSeconds < 86_400
    ? new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(d)
    : new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(d);
}

/**
 * Where the audit log shows a series' events: from the first bucket on. Days are given
 * as dates (the log's date filter shows them); hours as the exact time.
 */
export function auditLink(event: string, since: string | undefined, bucketSeconds: number): string {
  const q = new URLSearchParams({ event });
  if (since) q.set('since', bucketSeconds >= 86_400 ? since.slice(0, 10) : since);
  return `/audit?${q.toString()}`;
}

export function shapeSummary(s: Summary, locale?: string): Shaped {
  const n = s.buckets.length;
  const known = SERIES.map((x) => x.event);
  const extra = Object.keys(s.series).filter((e) => !known.includes(e)).sort();
  const series = [...SERIES, ...extra.map((event) => ({ event, label: event, alarm: false }))].map(({ event, label, alarm }) => {
    const raw = s.series[event] ?? [];
    const counts = Array.from({ length: n }, (_, i) => raw[i] ?? 0);
    const total = s.totals[event] ?? counts.reduce((a, b) => a + b, 0);
    const max = Math.max(0, ...counts);
    const index = max > 0 ? counts.indexOf(max) : -1;
    return {
      event, label, alarm: !!alarm, counts, total, max,
      peak: index >= 0 ? { index, count: max } : null,
      href: auditLink(event, s.buckets[0], s.bucket_seconds),
    };
  });
  return {
    period: parsePeriod(s.period),
    buckets: s.buckets,
    labels: s.buckets.map((b) => bucketLabel(b, s.bucket_seconds, locale)),
    series,
  };
}

/** One sentence a screen reader reads for a chart. */
export function describeSeries(x: Series, labels: string[], span: string): string {
  if (!x.total) return `${x.label}: none ${span}.`;
  const peak = x.peak ? `, most (${x.peak.count}) at ${labels[x.peak.index] ?? '?'}` : '';
  return `${x.label}: ${x.total} ${span}${peak}.`;
}
