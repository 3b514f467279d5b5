// What jsdom lacks and React Aria's overlays use, for tests that open a dialog: import
// this file first. (Not used by the app: browsers have all of it.)

const g = globalThis as { CSS?: { escape?: (value: string) => string } };
g.CSS ??= {};
g.CSS.escape ??= (value: string) => value.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);

export {};
