/** Router state one page of the console leaves for the next: what just happened ("Wiki is deleted."). */
export type NoticeState = { notice?: string };

export const noticeOf = (state: unknown): string | null => (state as NoticeState | null)?.notice ?? null;
