// Type-level checks of the path-typed transport: `tsc --noEmit` fails when a wrong path,
// method, body or parameter compiles, or an answer loses its schema type.

import { describe, expectTypeOf, it } from 'vitest';
import type { components } from './schema';
import { api, type RequestBody, type ResponseOf } from './transport';

type S = components['schemas'];

// Never called: the compiler checks the calls, the test runner only loads the file.
function calls() {
  // Answers carry the schema's types.
  expectTypeOf(api('/api/me/')).resolves.toEqualTypeOf<S['UserResponse']>();
  expectTypeOf(api('/api/users/', { query: { page: 2, search: 'al' } })).resolves.toEqualTypeOf<S['Paginated_UserResponse']>();
  expectTypeOf(api('/api/roles/', { method: 'post', body: { name: 'support', permissions: [] } }))
    .resolves.toEqualTypeOf<S['RoleResponse']>();
  expectTypeOf(api('/api/me/password/', { method: 'post', body: { old_password: 'a', new_password: 'b' } }))
    .resolves.toEqualTypeOf<null>();
  expectTypeOf(api('/api/users/{id}/roles/', { method: 'put', path: { id: 'u1' }, body: { roles: ['editor'] } }))
    .resolves.toEqualTypeOf<S['UserResponse']>();

  // @ts-expect-error: a path the server does not serve
  void api('/api/nope/');
  // @ts-expect-error: a path with its parameter filled in by hand is not a declared path
  void api('/api/users/u1/');
  // @ts-expect-error: /api/me/password/ has no GET, so the call needs its method and body
  void api('/api/me/password/');
  // @ts-expect-error: a method the path does not declare
  void api('/api/me/sessions/', { method: 'post' });
  // @ts-expect-error: a body missing a required field
  void api('/api/me/password/', { method: 'post', body: { old_password: 'a' } });
  // @ts-expect-error: a body field of the wrong type
  void api('/api/roles/', { method: 'post', body: { name: 1 } });
  // @ts-expect-error: a body where the operation takes none
  void api('/api/me/sessions/revoke-all/', { method: 'post', body: {} });
  // @ts-expect-error: the path parameter is required
  void api('/api/users/{id}/', { method: 'patch', body: { is_active: false } });
  // @ts-expect-error: a query parameter the operation does not declare
  void api('/api/users/', { query: { sort: 'name' } });
}

describe('transport types', () => {
  it('derives bodies and answers from the schema', () => {
    expectTypeOf<RequestBody<'/api/me/password/', 'post'>>().toEqualTypeOf<S['ChangePasswordRequest']>();
    expectTypeOf<ResponseOf<'/api/me/sessions/'>>().toEqualTypeOf<S['SessionView'][]>();
    expectTypeOf<ResponseOf<'/api/me/sessions/{id}/', 'delete'>>().toEqualTypeOf<null>();
    expectTypeOf(calls).toBeFunction();
  });
});
