import { useEffect, useId, useReducer, useRef, useState } from 'react';
import { initialRecoveryStep, RECOVERY_FILE_NAME, recoveryCodesText, recoveryStepReducer } from './recoveryCodes';

interface Props {
  codes: string[];
  username: string;
  /** Called once the person ticked "I have saved them" and went on. */
  onDone: () => void;
}

/**
 * New recovery codes, shown once: copy them all, download them as a text file, and tick
 * "I have saved them" before going on. Leaving the page meanwhile asks first.
 */
export function RecoveryCodes({ codes, username, onDone }: Props) {
  const [step, dispatch] = useReducer(recoveryStepReducer, initialRecoveryStep);
  const [said, setSaid] = useState<string | null>(null);
  const [issued] = useState(() => new Date());
  const list = useRef<HTMLOListElement>(null);
  const box = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const nudgeId = useId();
  const text = recoveryCodesText(codes, { username, issued });

  // The codes appear in place of the page's forms: start reading there.
  useEffect(() => heading.current?.focus(), []);

  useEffect(() => {
    if (step.finished) onDone();
  }, [step.finished, onDone]);

  // Closing or reloading the tab before they are saved loses them: the browser asks first.
  useEffect(() => {
    if (step.saved) return undefined;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [step.saved]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      dispatch({ type: 'copied' });
      setSaid(`Copied ${codes.length} codes.`);
    } catch {
      // No clipboard access (an old browser, a denied permission): select them instead.
      const range = document.createRange();
      if (list.current) range.selectNodeContents(list.current);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      setSaid('Could not copy automatically: the codes are selected, press Ctrl+C (⌘C on a Mac) to copy them.');
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = RECOVERY_FILE_NAME;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    dispatch({ type: 'downloaded' });
    setSaid(`Downloaded ${RECOVERY_FILE_NAME}.`);
  }

  function finish() {
    dispatch({ type: 'finish' });
    if (!step.saved) box.current?.focus();
  }

  return (
    <section className="recovery-codes" aria-labelledby="codes-title" data-testid="recovery-step">
      <h2 id="codes-title" ref={heading} tabIndex={-1}>Save your recovery codes</h2>
      <p>
        Each code signs you in once if you lose your authenticator app or passkey. They are shown only now: copy or
        download them and keep them somewhere safe, such as a password manager.
      </p>
      <ol ref={list} data-testid="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => <li key={c}><code>{c}</code></li>)}
      </ol>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void copy()}>Copy all codes</button>
        <button type="button" className="secondary" onClick={download}>Download as a .txt file</button>
      </div>
      <p role="status" className="muted" data-testid="recovery-said">{said}</p>
      <label className="saved">
        <input ref={box} type="checkbox" checked={step.saved} aria-describedby={step.nudged ? nudgeId : undefined}
          onChange={(e) => dispatch({ type: 'saved', saved: e.target.checked })} />
        I have saved these codes somewhere safe
      </label>
      <p id={nudgeId} role="alert" className="notice error" hidden={!step.nudged}>
        Tick the box once the codes are saved: they will not be shown again.
      </p>
      <button type="button" onClick={finish}>Done</button>
    </section>
  );
}
