// Live feedback while typing, mirroring the server's rules where they can run in the
// browser. The password rules are shared with every password form (lib/passwordRules).

export { passwordProblems, quickRatio } from '../../lib/passwordRules';

export function usernameProblems(username: string): string[] {
  if (!username) return [];
  const problems: string[] = [];
  if (!/^[\p{L}\p{N}_.@+-]+$/u.test(username.trim())) {
    problems.push('Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.');
  }
  if ([...username].length > 150) problems.push('Ensure this field has no more than 150 characters.');
  return problems;
}
