// Live feedback while typing, mirroring the server's rules (Django's validators) where
// they can run in the browser. The server stays the judge: its messages replace these.

/** Python's difflib quick_ratio: 2·(multiset intersection)/(total length). */
export function quickRatio(a: string, b: string): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  const avail = new Map<string, number>();
  for (const c of b) avail.set(c, (avail.get(c) ?? 0) + 1);
  let matches = 0;
  for (const c of a) {
    const n = avail.get(c) ?? 0;
    if (n > 0) {
      avail.set(c, n - 1);
      matches += 1;
    }
  }
  return (2 * matches) / total;
}

export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  if (!password) return problems;
  const pw = password.toLowerCase();
  const name = username.trim().toLowerCase();
  if (name && [...name.split(/[^\p{L}\p{N}_]+/u), name].some((part) => part && !(pw.length >= 10 * part.length && part.length < 0.35 * pw.length) && quickRatio(pw, part) >= 0.7)) {
    problems.push('The password is too similar to the username.');
  }
  if ([...password].length < 8) {
    problems.push('This password is too short. It must contain at least 8 characters.');
  }
  if (/^\p{Nd}+$/u.test(password)) {
    problems.push('This password is entirely numeric.');
  }
  return problems;
}

export function usernameProblems(username: string): string[] {
  if (!username) return [];
  const problems: string[] = [];
  if (!/^[\p{L}\p{N}_.@+-]+$/u.test(username.trim())) {
    problems.push('Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.');
  }
  if ([...username].length > 150) problems.push('Ensure this field has no more than 150 characters.');
  return problems;
}
