import { QueryClient } from '@tanstack/react-query';

/**
 * The app's cache of server data. No automatic retries (a refused call says so at
 * once: the transport already refreshed the session once) and no refetch on window
 * focus (pages load when they open, as they always have).
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}
