import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { recoveryCodesText } from './recoveryCodes';
import { RecoveryCodes } from './RecoveryCodes';

const codes = ['aaaa-bbbb', 'cccc-dddd', 'eeee-ffff'];

afterEach(() => vi.unstubAllGlobals());

describe('the recovery-codes step', () => {
  it('writes a file that says what the codes are, one a line', () => {
    const text = recoveryCodesText(codes, { username: 'tina', issued: new Date('2026-03-01T10:20:30Z') });
    expect(text).toContain('Authenticon recovery codes for tina');
    expect(text).toContain('2026-03-01 10:20 UTC');
    expect(text.trim().split('\n').slice(-3)).toEqual(codes);
  });

  it('copies, downloads, and goes on only once ticked', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const created: Blob[] = [];
    vi.stubGlobal('URL', Object.assign(URL, {
      createObjectURL: (b: Blob) => { created.push(b); return 'blob:x'; },
      revokeObjectURL: () => {},
    }));
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    const onDone = vi.fn();
    render(<RecoveryCodes codes={codes} username="tina" onDone={onDone} />);
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Save your recovery codes' }));
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(codes);

    await userEvent.click(screen.getByRole('button', { name: 'Copy all codes' }));
    expect(writeText).toHaveBeenCalledWith(codes.join('\n'));
    expect(screen.getByText('Copied 3 codes.')).toBeTruthy();

    await userEvent.click(screen.getByRole('button', { name: 'Download as a .txt file' }));
    expect(clicked).toEqual(['authenticon-recovery-codes.txt']);
    expect(await created[0]?.text()).toContain('cccc-dddd');

    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onDone).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toContain('Tick the box once the codes are saved');
    expect(document.activeElement).toBe(screen.getByRole('checkbox', { name: 'I have saved these codes somewhere safe' }));

    await userEvent.click(screen.getByRole('checkbox', { name: 'I have saved these codes somewhere safe' }));
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onDone).toHaveBeenCalledTimes(1);
    click.mockRestore();
  });

  it('selects the codes when the clipboard is refused', async () => {
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new Error('denied')) }, configurable: true });
    render(<RecoveryCodes codes={codes} username="tina" onDone={() => {}} />);
    await userEvent.click(screen.getByRole('button', { name: 'Copy all codes' }));
    expect(screen.getByText(/the codes are selected, press Ctrl\+C/)).toBeTruthy();
    expect(window.getSelection()?.toString()).toContain('aaaa-bbbb');
  });
});
