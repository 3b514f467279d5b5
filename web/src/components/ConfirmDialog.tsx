import type { ReactNode } from 'react';
import { Button, Dialog, DialogTrigger, Heading, Modal, ModalOverlay } from 'react-aria-components';

interface ConfirmDialogProps {
  /** The question's heading: "Remove this passkey?" */
  title: string;
  /** What happens, in a sentence or two. */
  children: ReactNode;
  /** The confirming button's text: a verb ("Remove passkey"), not "OK". */
  confirmLabel: string;
  cancelLabel?: string;
  /** Something that cannot be undone: a red confirm button, and Cancel focused first. */
  destructive?: boolean;
  /**
   * Runs once the dialog has closed. The page shows the outcome: the action may itself
   * open the "Confirm it is you" dialog, which should not stack on this one.
   */
  onConfirm: () => void;
  /** The text of the button that opens the dialog; leave out to control it with `isOpen`. */
  trigger?: ReactNode;
  /** The trigger's accessible name, when its text alone is ambiguous ("Remove" → "Remove passkey Laptop"). */
  triggerAriaLabel?: string;
  /** The trigger's class (`secondary`, `danger`, `small`, …). */
  triggerClassName?: string;
  triggerDisabled?: boolean;
  /** Controlled use, without a trigger: open while true; `onOpenChange(false)` on cancel. */
  isOpen?: boolean;
  onOpenChange?: (open: boolean) => void;
}

/**
 * A confirmation as a modal dialog (React Aria: focus is trapped inside and returns to
 * the trigger, Escape cancels, the page behind is hidden from screen readers).
 *
 * ```tsx
 * <ConfirmDialog trigger="Delete" triggerClassName="danger small" triggerAriaLabel={`Delete role ${name}`}
 *   title={`Delete the role ${name}?`} confirmLabel="Delete role" destructive onConfirm={() => remove(name)}>
 *   Users holding it lose its permissions at once.
 * </ConfirmDialog>
 * ```
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const { trigger, triggerAriaLabel, triggerClassName, triggerDisabled, isOpen, onOpenChange } = props;
  const modal = <ConfirmModal {...props} />;
  if (trigger === undefined) {
    return (
      <ModalOverlay className="modal-overlay" isDismissable isOpen={isOpen} onOpenChange={onOpenChange}>
        {modal}
      </ModalOverlay>
    );
  }
  return (
    <DialogTrigger isOpen={isOpen} onOpenChange={onOpenChange}>
      <Button className={triggerClassName} aria-label={triggerAriaLabel} isDisabled={triggerDisabled}>{trigger}</Button>
      <ModalOverlay className="modal-overlay" isDismissable>{modal}</ModalOverlay>
    </DialogTrigger>
  );
}

function ConfirmModal({ title, children, confirmLabel, cancelLabel = 'Cancel', destructive = false, onConfirm }: ConfirmDialogProps) {
  return (
    <Modal className="modal">
      <Dialog role="alertdialog" className="dialog">
        {({ close }) => (
          <>
            <Heading slot="title" level={2}>{title}</Heading>
            <div className="dialog-body">{children}</div>
            <div className="actions">
              <Button className={destructive ? 'danger' : undefined} autoFocus={!destructive}
                onPress={() => { close(); onConfirm(); }}>
                {confirmLabel}
              </Button>
              <Button className="secondary" autoFocus={destructive} onPress={close}>{cancelLabel}</Button>
            </div>
          </>
        )}
      </Dialog>
    </Modal>
  );
}
