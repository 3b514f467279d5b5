import { useId } from 'react';
import { Switch } from 'react-aria-components';

interface Props {
  value: boolean;
  onChange: (enabled: boolean) => void;
}

/** Whether deliveries are made; what switching off costs is said beside it. */
export function EnabledSwitch({ value, onChange }: Props) {
  const hintId = useId();
  return (
    <div className="enabled-switch">
      <Switch className="switch" isSelected={value} onChange={onChange} aria-describedby={hintId}>
        <span className="track" aria-hidden="true"><span className="thumb" /></span>
        Enabled
      </Switch>
      <p id={hintId} className="hint">
        {value ? 'Events are delivered as they happen.' : 'Off: nothing is sent; what happens meanwhile waits and goes out once it is on again.'}
      </p>
    </div>
  );
}
