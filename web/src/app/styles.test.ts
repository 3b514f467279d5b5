// WCAG 1.4.11: the focus ring must stand out at 3:1 from every background it is drawn
// on. The colours are read from the stylesheet itself, so changing one re-checks it.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Vitest runs in web/.
const css = readFileSync(resolve(process.cwd(), 'src/app/styles.css'), 'utf8');

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The value of `--name` in the first rule whose selector is `selector`. */
function variable(selector: string, name: string): string {
  const rule = new RegExp(`(^|\\n)${selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\{([^}]*)\\}`).exec(css);
  const value = rule && new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(rule[2] ?? '');
  if (!value?.[1]) throw new Error(`no --${name} in ${selector}`);
  return value[1];
}

/** The background colour a rule sets. */
function background(selector: string): string {
  const rule = new RegExp(`(^|\\n)${selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\{([^}]*)\\}`).exec(css);
  const value = rule && /background:\s*(#[0-9a-fA-F]{6})/.exec(rule[2] ?? '');
  if (!value?.[1]) throw new Error(`no background in ${selector}`);
  return value[1];
}

describe('focus ring', () => {
  it('has 3:1 against each light background of the pages, banners and notices', () => {
    const focus = variable(':root', 'focus');
    const light = {
      page: variable(':root', 'bg'), card: variable(':root', 'card'), banner: background('.banner'),
      error: background('.notice.error'), success: background('.notice.success'), info: background('.notice.info'),
      warning: background('.notice.warning'), empty: background('.state-empty'), failed: background('.state-error'),
      shownOnce: background('.shown-once'),
    };
    for (const [where, bg] of Object.entries(light)) {
      expect(contrast(focus, bg), `${focus} on ${where} ${bg}`).toBeGreaterThanOrEqual(3);
    }
  });

  it('has 3:1 against the dark top bar, where it turns light', () => {
    const bar = /\.topbar \{[^}]*background:\s*(#[0-9a-fA-F]{6})/.exec(css)?.[1] ?? '';
    const focus = /\.topbar \{[^}]*--focus:\s*(#[0-9a-fA-F]{6})/.exec(css)?.[1] ?? '';
    expect(contrast(focus, bar)).toBeGreaterThanOrEqual(3);
  });

  it('is what the issue measured before: amber on white fails', () => {
    expect(contrast('#ffbf47', '#ffffff')).toBeLessThan(3);
  });
});
