import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';

// What jsdom lacks and React Aria's overlays use (browsers have it all).
const g = globalThis as { CSS?: { escape?: (value: string) => string } };
g.CSS ??= {};
g.CSS.escape ??= (value: string) => value.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);

afterEach(() => cleanup());
