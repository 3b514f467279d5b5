import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { onMfaEnrollmentRequired } from '../../lib/api/guards';

/** Shown once the server said the user's role needs a second factor they lack. */
export function MfaBanner() {
  const [required, setRequired] = useState(false);
  useEffect(() => onMfaEnrollmentRequired(setRequired), []);
  if (!required) return null;
  return (
    <div className="banner" role="alert">
      <span>Your role requires two-factor authentication: its pages stay closed until you turn it on.</span>{' '}
      <Link to="/two-factor">Set it up</Link>
    </div>
  );
}
