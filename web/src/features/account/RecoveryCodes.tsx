import { useState } from 'react';
import { ShownOnce } from '../../components/ShownOnce';
import { RECOVERY_FILE_NAME, recoveryCodesText } from './recoveryCodes';

interface Props {
  codes: string[];
  username: string;
  /** Called once the person ticked "I have saved them" and went on. */
  onDone: () => void;
}

/**
 * New recovery codes, shown once: copy them all, download them as a text file, and tick
 * "I have saved them" before going on.
 */
export function RecoveryCodes({ codes, username, onDone }: Props) {
  const [issued] = useState(() => new Date());

  function download(say: (message: string) => void) {
    const url = URL.createObjectURL(new Blob([recoveryCodesText(codes, { username, issued })], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = RECOVERY_FILE_NAME;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    say(`Downloaded ${RECOVERY_FILE_NAME}.`);
  }

  return (
    <ShownOnce title="Save your recovery codes" onDone={onDone} testIds={{ step: 'recovery-step', said: 'recovery-said' }}
      intro={
        <p>
          Each code signs you in once if you lose your authenticator app or passkey. They are shown only now: copy or
          download them and keep them somewhere safe, such as a password manager.
        </p>
      }
      copy={{ text: codes.join('\n'), label: 'Copy all codes', done: `Copied ${codes.length} codes.` }}
      selected="the codes are selected"
      extraActions={(say) => <button type="button" className="secondary" onClick={() => download(say)}>Download as a .txt file</button>}
      savedLabel="I have saved these codes somewhere safe"
      nudge="Tick the box once the codes are saved: they will not be shown again.">
      <ol className="recovery-codes" data-testid="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => <li key={c}><code>{c}</code></li>)}
      </ol>
    </ShownOnce>
  );
}
