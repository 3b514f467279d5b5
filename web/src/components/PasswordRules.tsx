import { useId, type InputHTMLAttributes } from 'react';
import { passwordRules, type PasswordContext, type RuleState } from '../lib/passwordRules';
import { Field } from './Field';

const marks: Record<RuleState, { icon: string; said: string }> = {
  met: { icon: '✓', said: 'met' },
  failed: { icon: '✗', said: 'not met' },
  pending: { icon: '•', said: '' },
  server: { icon: '○', said: '' },
};

interface PasswordRulesProps extends PasswordContext {
  password: string;
  /** The list's id, for the input's `aria-describedby`. */
  id?: string;
}

/**
 * The server's password rules as a checklist that follows what is typed: at least 8
 * characters, not only digits, not too like the username or email address (when known),
 * not a common password (the server's check, on save). Each state is said in words too,
 * not by colour alone. Not a live region: it would speak on every key; the input points
 * at it with `aria-describedby` instead.
 */
export function PasswordRules({ password, username, email, id }: PasswordRulesProps) {
  const rules = passwordRules(password, { username, email });
  return (
    <ul className="password-rules" id={id} data-testid="password-rules">
      {rules.map((r) => (
        <li key={r.id} data-rule={r.id} data-state={r.state}>
          <span className="mark" aria-hidden="true">{marks[r.state].icon}</span>
          <span>
            {r.label}
            {r.state === 'server' && <span className="muted"> (checked when you save)</span>}
            {marks[r.state].said && <span className="sr-only"> ({marks[r.state].said})</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}

interface PasswordFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'value' | 'onChange'>, PasswordContext {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** The server's messages, or the rules' messages after a refused submit. */
  errors?: string[];
}

/** A new-password input with its rules checklist under it. */
export function PasswordField({ label, value, onChange, errors, username, email, ...input }: PasswordFieldProps) {
  const rulesId = useId();
  return (
    <Field label={label} type="password" autoComplete="new-password" value={value} errors={errors}
      onChange={(e) => onChange(e.target.value)} describedBy={rulesId} {...input}>
      <PasswordRules id={rulesId} password={value} username={username} email={email} />
    </Field>
  );
}
