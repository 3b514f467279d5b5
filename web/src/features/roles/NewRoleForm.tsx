import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { useChangeRole } from './api';
import { PermissionPicker } from '../../components/PermissionPicker';
import { checkRoleName, ROLE_NAME_RULE_TEXT } from './rules';

export function NewRoleForm({ builtin, inUse }: { builtin: string[]; inUse: string[] }) {
  const change = useChangeRole();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [permissions, setPermissions] = useState<string[]>([]);
  const [created, setCreated] = useState<string | null>(null);
  const nameProblem = checkRoleName(name.trim());
  const { fields, error } = change.error ? formError(change.error) : { fields: {}, error: null };

  function submit(e: FormEvent) {
    e.preventDefault();
    if (nameProblem || !name.trim()) return;
    setCreated(null);
    const created = name.trim();
    change.mutate({ kind: 'create', body: { name: created, description, permissions } }, {
      onSuccess: () => {
        setCreated(`Role ${created} created.`);
        setName('');
        setDescription('');
        setPermissions([]);
      },
    });
  }

  return (
    <form onSubmit={submit} noValidate className="subform new-role" aria-labelledby="new-role-title">
      <h2 id="new-role-title">New role</h2>
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off"
        errors={nameProblem ? [nameProblem] : fields.name} hint={ROLE_NAME_RULE_TEXT} />
      <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)}
        errors={fields.description} maxLength={200} />
      <PermissionPicker target="the new role" value={permissions} onChange={setPermissions}
        builtin={builtin} inUse={inUse} errors={fields.permissions} />
      <Notice error={error} success={created} />
      <button type="submit" disabled={change.isPending || !!nameProblem || !name.trim()}>Create role</button>
    </form>
  );
}
