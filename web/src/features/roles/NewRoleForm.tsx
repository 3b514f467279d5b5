import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { splitPermissions, type RoleChange } from './api';

interface Props {
  /** The server's field errors for the last change. */
  errors: Record<string, string[]>;
  onCreate: (change: RoleChange, onSuccess: () => void) => void;
}

export function NewRoleForm({ errors, onCreate }: Props) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [permissions, setPermissions] = useState('');

  function submit(e: FormEvent) {
    e.preventDefault();
    onCreate({ kind: 'create', body: { name, description, permissions: splitPermissions(permissions) } }, () => {
      setName('');
      setDescription('');
      setPermissions('');
    });
  }

  return (
    <form onSubmit={submit} noValidate className="subform">
      <h2>New role</h2>
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} errors={errors.name}
        hint="lower-case letters, digits, _ . -" />
      <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <Field label="Permissions" value={permissions} onChange={(e) => setPermissions(e.target.value)}
        errors={errors.permissions} hint="comma-separated, e.g. reports.view, articles.edit" />
      <button type="submit">Create role</button>
    </form>
  );
}
