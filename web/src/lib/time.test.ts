import { describe, expect, it } from 'vitest';
import { humanDuration, retryAfterSeconds, throttledMessage } from './time';
import { ApiError } from './api/errors';

describe('human durations', () => {
  it('rounds up into the largest unit that reads well', () => {
    expect(humanDuration(894)).toBe('15 minutes');
    expect(humanDuration(0.2)).toBe('1 second');
    expect(humanDuration(1)).toBe('1 second');
    expect(humanDuration(45)).toBe('45 seconds');
    expect(humanDuration(60)).toBe('1 minute');
    expect(humanDuration(61)).toBe('2 minutes');
    expect(humanDuration(3599)).toBe('1 hour');
    expect(humanDuration(3600)).toBe('1 hour');
    expect(humanDuration(5400)).toBe('2 hours');
    expect(humanDuration(3 * 86400)).toBe('3 days');
  });

  it('reads Retry-After as seconds or a date, else DRF\'s sentence', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('894', null, now)).toBe(894);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:02:00 GMT', null, now)).toBe(120);
    expect(retryAfterSeconds(null, 'Request was throttled. Expected available in 894 seconds.')).toBe(894);
    expect(retryAfterSeconds(null, 'Something else')).toBeNull();
  });

  it('says a throttled call in words', () => {
    expect(throttledMessage(894)).toBe('Too many attempts. Try again in 15 minutes.');
    expect(throttledMessage(null)).toBe('Too many attempts. Try again later.');
    expect(new ApiError(429, { detail: 'Request was throttled. Expected available in 894 seconds.' }).message)
      .toBe('Too many attempts. Try again in 15 minutes.');
    expect(new ApiError(429, { detail: 'Request was throttled.' }, '30')).toMatchObject({
      message: 'Too many attempts. Try again in 30 seconds.', retryAfter: 30,
    });
    expect(new ApiError(400, { detail: 'x' }, '30').retryAfter).toBeNull();
  });
});
