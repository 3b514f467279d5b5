import { useId, useState } from 'react';
import { Button, ComboBox, Header, Input, Label, ListBox, ListBoxItem, ListBoxSection, Popover } from 'react-aria-components';
import { checkPermission, PERMISSION_RULE_TEXT } from '../lib/permissionRules';
import { RemovableTags } from './RemovableTags';

interface Props {
  /** The permissions picked so far. */
  value: string[];
  onChange: (next: string[]) => void;
  builtin: string[];
  inUse: string[];
  /** The server's errors for the permissions. */
  errors?: string[];
  /** Whose permissions: "editor", "the new role". */
  target: string;
}

/**
 * Picks permissions: a combobox offering the built-in ones and those in use, where any
 * other that follows the rule can still be typed. What is typed is checked as it is
 * typed, and a near miss of a known permission is pointed out before it is added.
 */
export function PermissionPicker({ value, onChange, builtin, inUse, errors = [], target }: Props) {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const msgId = useId();
  const known = [...new Set([...builtin, ...inUse])];
  const check = checkPermission(text, known);
  const typed = text.trim();
  const canAdd = (check.kind === 'known' || check.kind === 'new') && !value.includes(typed);

  function add(p: string) {
    if (!value.includes(p)) onChange([...value, p]);
    setText('');
  }

  const offer = (names: string[]) => names.filter((p) => !value.includes(p)).map((p) => ({ id: p }));
  const builtinLeft = offer(builtin);
  const inUseLeft = offer(inUse.filter((p) => !builtin.includes(p)));

  return (
    <div className="permission-picker">
      <RemovableTags label={`Permissions of ${target}`} heading="Permissions" values={value} onChange={onChange} empty="No permissions." />

      <div className="picker-row">
        <ComboBox className="combo" allowsCustomValue allowsEmptyCollection={false} menuTrigger="focus"
          inputValue={text} onInputChange={setText} selectedKey={null}
          onSelectionChange={(key) => { if (key !== null) add(String(key)); }}
          onOpenChange={setOpen}
          onKeyDown={(e) => {
            // Enter adds what is typed when no suggestion is highlighted.
            if (e.key === 'Enter' && !open && canAdd) {
              e.preventDefault();
              add(typed);
            }
          }}>
          <Label>Add a permission to {target}</Label>
          <div className="combo-field">
            <Input aria-describedby={msgId} placeholder="e.g. reports.view" />
            <Button className="combo-toggle" aria-label="Show permissions">▾</Button>
          </div>
          <Popover className="combo-popover">
            <ListBox className="combo-list">
              {builtinLeft.length > 0 && (
                <ListBoxSection>
                  <Header className="combo-header">Built in</Header>
                  {builtinLeft.map((p) => <ListBoxItem key={p.id} id={p.id} className="combo-item">{p.id}</ListBoxItem>)}
                </ListBoxSection>
              )}
              {inUseLeft.length > 0 && (
                <ListBoxSection>
                  <Header className="combo-header">In use by roles</Header>
                  {inUseLeft.map((p) => <ListBoxItem key={p.id} id={p.id} className="combo-item">{p.id}</ListBoxItem>)}
                </ListBoxSection>
              )}
            </ListBox>
          </Popover>
        </ComboBox>
        <button type="button" className="secondary" disabled={!canAdd} onClick={() => add(typed)}
          aria-label={`Add the typed permission to ${target}`}>Add</button>
      </div>

      <div id={msgId} className="field-msg" aria-live="polite">
        {check.kind === 'invalid' ? (
          <ul className="errors"><li>{check.message}</li></ul>
        ) : check.kind === 'new' ? (
          <p className="warn-text">
            <code>{typed}</code> is new: nothing checks it yet.
            {check.suggestion && (
              <> Did you mean{' '}
                <button type="button" className="link" onClick={() => add(check.suggestion!)}>{check.suggestion}</button>?
              </>
            )}
          </p>
        ) : errors.length > 0 ? (
          <ul className="errors">{errors.map((e) => <li key={e}>{e}</li>)}</ul>
        ) : (
          <span className="hint">Pick one, or type one: {PERMISSION_RULE_TEXT}.</span>
        )}
      </div>
    </div>
  );
}
