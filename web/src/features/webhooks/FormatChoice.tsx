import { Label, Radio, RadioGroup, Text } from 'react-aria-components';
import type { Format } from './webhookForm';

interface Props {
  value: Format;
  onChange: (format: Format) => void;
  /** Registering: the format can still be chosen. */
  creating: boolean;
  /** The server's messages about the format. */
  errors?: string[];
}

/** How deliveries are made and signed: fixed once the endpoint is registered. */
export function FormatChoice({ value, onChange, creating, errors = [] }: Props) {
  return (
    <RadioGroup className="choice-group format-choice" value={value} isDisabled={!creating} isInvalid={errors.length > 0}
      onChange={(v) => onChange(v as Format)}>
      <Label className="group-label">Format</Label>
      <Radio value="standard" className="radio-button">
        <span className="dot" aria-hidden="true" />
        <span>Standard Webhooks <span className="muted">JSON, signed with a secret of the endpoint’s own</span></span>
      </Radio>
      <Radio value="set" className="radio-button">
        <span className="dot" aria-hidden="true" />
        <span>Security Event Tokens <span className="muted">CAEP and RISC signals (RFC 8935), signed with the published key</span></span>
      </Radio>
      {!creating && <Text slot="description" className="hint">Fixed once registered: add another endpoint to change it.</Text>}
      {errors.length > 0 && (
        <Text slot="errorMessage" elementType="ul" className="errors">{errors.map((m) => <li key={m}>{m}</li>)}</Text>
      )}
    </RadioGroup>
  );
}
