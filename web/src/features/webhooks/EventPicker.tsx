import { useQuery } from '@tanstack/react-query';
import { CheckboxGroup, Label, Text } from 'react-aria-components';
import { Check } from '../../components/Check';
import { QueryState } from '../../components/QueryState';
import { eventTypesQuery } from './api';

interface Props {
  value: string[];
  onChange: (next: string[]) => void;
  /** Why an event cannot be chosen (shown in place of what it reports); null when it can. */
  unavailable: (event: string) => string | null;
  /** The server's messages about the events. */
  errors?: string[];
}

/** The event types an endpoint hears of, each with what it reports, as the server lists them. */
export function EventPicker({ value, onChange, unavailable, errors = [] }: Props) {
  const types = useQuery(eventTypesQuery());
  return (
    <CheckboxGroup className="choice-list event-picker" value={value} onChange={onChange} isInvalid={errors.length > 0}>
      <Label className="group-label">Events</Label>
      <Text slot="description" className="hint">What the endpoint hears of: at least one.</Text>
      <QueryState query={types} what="the event types">
        {(list) => (
          <div className="event-choices">
            {list.map((t) => {
              const why = unavailable(t.name);
              return (
                <Check key={t.name} value={t.name} isDisabled={!!why}>
                  <span><code>{t.name}</code> <span className="muted">{why ?? t.description}</span></span>
                </Check>
              );
            })}
          </div>
        )}
      </QueryState>
      {/* Inside the group, so it is read with it (aria-describedby) while the group is invalid. */}
      {errors.length > 0 && (
        <Text slot="errorMessage" elementType="ul" className="errors">{errors.map((m) => <li key={m}>{m}</li>)}</Text>
      )}
    </CheckboxGroup>
  );
}
