import { useState } from 'react';
import { CheckboxGroup, Label } from 'react-aria-components';
import { Check } from '../../components/Check';
import { Field } from '../../components/Field';
import { RemovableTags } from '../../components/RemovableTags';
import { describeScope, KNOWN_SCOPES } from '../../lib/scopes';
import { SCOPE_RULE, SCOPE_RULE_TEXT } from './clientForm';

interface Props {
  value: string[];
  onChange: (next: string[]) => void;
  /** The server's messages about the scopes. */
  errors?: string[];
}

const isKnown = (s: string) => (KNOWN_SCOPES as readonly string[]).includes(s);

/** The scopes an application may ask for: the provider's own, each in words, and any of its own API. */
export function ScopePicker({ value, onChange, errors = [] }: Props) {
  const [text, setText] = useState('');
  const known = value.filter(isKnown);
  const own = value.filter((s) => !isKnown(s));
  const typed = text.trim();
  const problem = typed && !SCOPE_RULE.test(typed) ? `A scope is ${SCOPE_RULE_TEXT}.` : null;
  const canAdd = !!typed && !problem && !value.includes(typed);

  function add() {
    if (!canAdd) return;
    onChange([...value, typed]);
    setText('');
  }

  return (
    <div className="scope-picker">
      <CheckboxGroup className="choice-list" value={known} onChange={(picked) => onChange([...KNOWN_SCOPES.filter((s) => picked.includes(s)), ...own])}>
        <Label className="group-label">Scopes it may ask for</Label>
        {KNOWN_SCOPES.map((s) => (
          <Check key={s} value={s}>
            <span><code>{s}</code> <span className="muted">{describeScope(s)}</span></span>
          </Check>
        ))}
      </CheckboxGroup>
      <RemovableTags label="Scopes of its own API" heading="Scopes of its own API" values={own} empty="None."
        onChange={(next) => onChange([...known, ...next])} />
      <div className="with-button">
        <Field label="Add a scope of its own API" value={text} onChange={(e) => setText(e.target.value)} autoComplete="off"
          spellCheck={false} placeholder="e.g. reports:read" errors={problem ? [problem] : errors}
          hint={`Any the application's API checks: ${SCOPE_RULE_TEXT}.`}
          onKeyDown={(e) => {
            // Enter adds the scope instead of sending the whole form.
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }} />
        <button type="button" className="secondary" disabled={!canAdd} onClick={add} aria-label="Add the typed scope">Add</button>
      </div>
    </div>
  );
}
