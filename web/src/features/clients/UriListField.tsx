import { useEffect, useId, useRef } from 'react';
import { Field } from '../../components/Field';
import { uriErrors } from './clientForm';

interface Props {
  /** The list's name: "Redirect URIs". */
  label: string;
  /** One entry's name: "Redirect URI" (numbered on each input). */
  itemLabel: string;
  hint: string;
  values: string[];
  onChange: (next: string[]) => void;
  /** The server's messages for the list; each one naming a URI shows under its input. */
  errors?: string[];
}

/** A list of URIs, one input each, with Add and Remove. */
export function UriListField({ label, itemLabel, hint, values, onChange, errors }: Props) {
  const hintId = useId();
  const list = useRef<HTMLOListElement>(null);
  const grew = useRef(false);
  const { rows, list: about } = uriErrors(errors, values);
  // "Redirect URI" in a sentence: "Add a redirect URI".
  const item = itemLabel[0]!.toLowerCase() + itemLabel.slice(1);

  // A row just added takes the cursor: it is where the next thing is typed.
  useEffect(() => {
    if (!grew.current) return;
    grew.current = false;
    list.current?.querySelector<HTMLInputElement>('li:last-child input')?.focus();
  }, [values.length]);

  return (
    <fieldset className="uri-list">
      <legend>{label}</legend>
      <p id={hintId} className="hint">{hint}</p>
      <ol ref={list}>
        {values.map((value, i) => (
          <li key={i} className="with-button">
            <Field label={`${itemLabel} ${i + 1}`} type="url" value={value} spellCheck={false} autoComplete="off"
              onChange={(e) => onChange(values.map((v, j) => (j === i ? e.target.value : v)))} errors={rows[i]} describedBy={hintId} />
            <button type="button" className="secondary" aria-label={`Remove ${item} ${i + 1}`}
              onClick={() => onChange(values.filter((_, j) => j !== i))}>Remove</button>
          </li>
        ))}
      </ol>
      {about.length > 0 && <ul className="errors">{about.map((m) => <li key={m}>{m}</li>)}</ul>}
      <button type="button" className="secondary" onClick={() => { grew.current = true; onChange([...values, '']); }}>
        Add {/^[aeiou]/.test(item) ? 'an' : 'a'} {item}
      </button>
    </fieldset>
  );
}
