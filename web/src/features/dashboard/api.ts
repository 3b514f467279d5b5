// What the dashboard shows: the signed-in user, and how their account is protected.

import { queryOptions } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import { updateUser } from '../../lib/api/session';

export const meQuery = () => queryOptions({
  queryKey: ['me'],
  queryFn: async () => {
    const me = await api('/api/me/');
    // Roles may have changed since sign-in: the nav follows the current ones.
    updateUser(me);
    return me;
  },
});
