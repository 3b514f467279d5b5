import type { ReactNode } from 'react';
import { CheckboxButton, CheckboxField, type CheckboxFieldProps } from 'react-aria-components';

/**
 * A checkbox whose box is 22 px and whose whole label is the target (the browser's
 * own box is 13 px). Without visible text, give it an `aria-label`.
 */
export function Check({ children, ...props }: Omit<CheckboxFieldProps, 'children'> & { children?: ReactNode }) {
  return (
    <CheckboxField {...props}>
      <CheckboxButton className="check-button">
        {({ isSelected, isIndeterminate }) => (
          <>
            <span className="box" aria-hidden="true">{isIndeterminate ? '–' : isSelected ? '✓' : ''}</span>
            {children}
          </>
        )}
      </CheckboxButton>
    </CheckboxField>
  );
}
