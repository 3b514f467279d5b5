import { describe, expect, it } from 'vitest';
import { auditLink, describeSeries, parsePeriod, shapeSummary, type Summary } from './shape';

const hours = ['2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z'];

describe('the overview’s data shaping', () => {
  it('puts the series in a fixed order with labels, fills gaps, and finds the peak', () => {
    const summary: Summary = {
      period: '24h', bucket_seconds: 3600, buckets: hours,
      series: { login_failed: [0, 4, 1], login: [2, 0, 3], mystery: [1, 1, 1], register: [0, 0] },
      totals: { login_failed: 5, login: 5, mystery: 3, register: 0 },
    };
    const shaped = shapeSummary(summary, 'en-GB');
    expect(shaped.series.map((s) => s.event)).toEqual([
      'login', 'login_failed', 'throttled', 'refresh_reuse_detected', 'register', 'mystery',
    ]);
    const [login, failed, throttled, reuse, register] = shaped.series;
    expect(login).toMatchObject({ label: 'Sign-ins', counts: [2, 0, 3], total: 5, max: 3, peak: { index: 2, count: 3 } });
    expect(failed).toMatchObject({ counts: [0, 4, 1], peak: { index: 1, count: 4 } });
    // A series the server left out, or cut short, is zeros.
    expect(throttled).toMatchObject({ counts: [0, 0, 0], total: 0, max: 0, peak: null });
    expect(register?.counts).toEqual([0, 0, 0]);
    expect(reuse?.alarm).toBe(true);
    expect(shaped.labels).toHaveLength(3);
    expect(shaped.labels[0]).toMatch(/^\d{2}:00$/);
  });

  it('links each series into the audit log from the period’s start', () => {
    expect(auditLink('login', hours[0], 3600)).toBe('/audit?event=login&since=2026-01-01T10%3A00%3A00Z');
    // Days as dates, which the log's date filter shows.
    expect(auditLink('register', '2026-01-01T00:00:00Z', 86400)).toBe('/audit?event=register&since=2026-01-01');
    const shaped = shapeSummary({ period: '30d', bucket_seconds: 86400, buckets: ['2026-01-01T00:00:00Z'], series: {}, totals: {} });
    expect(shaped.series[0]?.href).toBe('/audit?event=login&since=2026-01-01');
    expect(shaped.period).toBe('30d');
  });

  it('says each chart in a sentence', () => {
    const shaped = shapeSummary({ period: '24h', bucket_seconds: 3600, buckets: hours, series: { login: [1, 5, 0] }, totals: { login: 6 } }, 'en-GB');
    const login = shaped.series[0]!;
    expect(describeSeries(login, ['10:00', '11:00', '12:00'], 'in the last 24 hours'))
      .toBe('Sign-ins: 6 in the last 24 hours, most (5) at 11:00.');
    expect(describeSeries(shaped.series[1]!, shaped.labels, 'in the last 24 hours')).toBe('Failed sign-ins: none in the last 24 hours.');
  });

  it('reads the period from the URL', () => {
    expect(parsePeriod('30d')).toBe('30d');
    expect(parsePeriod('7d')).toBe('24h');
    expect(parsePeriod(null)).toBe('24h');
  });
});
