/**
 * Sends the whole window to the application (its redirect URI, which the server checked
 * against the client's registration). A module of its own so tests can stand in for it.
 */
export function goToApplication(url: string): void {
  window.location.assign(url);
}
