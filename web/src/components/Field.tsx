import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  errors?: string[];
  hint?: string;
  /** More ids the input is described by (a rules list below it, …). */
  describedBy?: string;
  /** Shown under the message area (a rules list, …). */
  children?: ReactNode;
}

/** A labelled input whose errors are announced and tied to it for screen readers. */
export function Field({ label, errors = [], hint, describedBy, children, ...input }: FieldProps) {
  const id = useId();
  const messageId = `${id}-msg`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={errors.length > 0} aria-describedby={describedBy ? `${messageId} ${describedBy}` : messageId}
        {...input} />
      {/* Always rendered, so an error appearing does not push the layout around. */}
      <div id={messageId} className="field-msg" aria-live="polite">
        {errors.length > 0 ? (
          <ul className="errors">
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        ) : (
          hint && <span className="hint">{hint}</span>
        )}
      </div>
      {children}
    </div>
  );
}
