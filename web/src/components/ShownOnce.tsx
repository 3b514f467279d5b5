import { useEffect, useId, useReducer, useRef, useState, type ReactNode } from 'react';
import { initialShownOnce, shownOnceReducer } from './shownOnce';

interface ShownOnceProps {
  /** The heading: "Save your recovery codes". */
  title: string;
  /** Why it matters and where to keep it. */
  intro: ReactNode;
  /** What is shown; selected for copying by hand when the clipboard is refused. */
  children: ReactNode;
  /** What the copy button puts on the clipboard, its text, and what it says after. */
  copy: { text: string; label: string; done: string };
  /** What the page says when it selected the content instead: "the codes are selected". */
  selected: string;
  /** More ways to keep it (a download); each may say what it did with `say`. */
  extraActions?: (say: (message: string) => void) => ReactNode;
  /** The box's label: "I have saved these codes somewhere safe". */
  savedLabel: string;
  /** Said when Done is pressed before the box is ticked. */
  nudge: string;
  /** Called once the box was ticked and Done pressed. */
  onDone: () => void;
  testIds?: { step?: string; said?: string };
}

/**
 * Something shown this once (recovery codes, a client secret): copy it, tick "I have
 * saved it" and press Done before going on. Closing or reloading the tab meanwhile asks
 * first. Focus starts at its heading, as it appears in place of the page's forms.
 */
export function ShownOnce(props: ShownOnceProps) {
  const { title, intro, children, copy, selected, extraActions, savedLabel, nudge, onDone, testIds = {} } = props;
  const [step, dispatch] = useReducer(shownOnceReducer, initialShownOnce);
  const [said, setSaid] = useState<string | null>(null);
  const content = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const titleId = useId();
  const nudgeId = useId();

  useEffect(() => heading.current?.focus(), []);

  useEffect(() => {
    if (step.finished) onDone();
  }, [step.finished, onDone]);

  useEffect(() => {
    if (step.saved) return undefined;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [step.saved]);

  async function copyIt() {
    try {
      await navigator.clipboard.writeText(copy.text);
      setSaid(copy.done);
    } catch {
      // No clipboard access (an old browser, a denied permission): select it instead.
      const range = document.createRange();
      if (content.current) range.selectNodeContents(content.current);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      setSaid(`Could not copy automatically: ${selected}, press Ctrl+C (⌘C on a Mac) to copy.`);
    }
  }

  function finish() {
    dispatch({ type: 'finish' });
    if (!step.saved) box.current?.focus();
  }

  return (
    <section className="shown-once" aria-labelledby={titleId} data-testid={testIds.step}>
      <h2 id={titleId} ref={heading} tabIndex={-1}>{title}</h2>
      {intro}
      <div ref={content}>{children}</div>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void copyIt()}>{copy.label}</button>
        {extraActions?.(setSaid)}
      </div>
      <p role="status" className="muted" data-testid={testIds.said}>{said}</p>
      <label className="saved">
        <input ref={box} type="checkbox" checked={step.saved} aria-describedby={step.nudged ? nudgeId : undefined}
          onChange={(e) => dispatch({ type: 'saved', saved: e.target.checked })} />
        {savedLabel}
      </label>
      <p id={nudgeId} role="alert" className="notice error" hidden={!step.nudged}>{nudge}</p>
      <button type="button" onClick={finish}>Done</button>
    </section>
  );
}
