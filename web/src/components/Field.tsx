import { useId, type InputHTMLAttributes } from 'react';

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  errors?: string[];
  hint?: string;
}

/** A labelled input whose errors are announced and tied to it for screen readers. */
export function Field({ label, errors = [], hint, ...input }: FieldProps) {
  const id = useId();
  const describedBy = `${id}-msg`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={errors.length > 0} aria-describedby={describedBy} {...input} />
      {/* Always rendered, so an error appearing does not push the layout around. */}
      <div id={describedBy} className="field-msg" aria-live="polite">
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
    </div>
  );
}
