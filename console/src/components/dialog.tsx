import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ErrorBox } from './common';

/**
 * A modal dialog on the native <dialog> (focus moves in, Escape closes, the page behind is inert)
 * around a form whose submit button is `Confirm`. `onConfirm` may throw: the API's refusal is
 * shown in the dialog and the operator can correct the form.
 */
export function ConfirmDialog({
  title,
  description,
  children,
  confirmLabel = 'Confirm',
  danger,
  onConfirm,
  onClose,
}: {
  title: string;
  description?: ComponentChildren;
  children: ComponentChildren;
  confirmLabel?: string;
  danger?: boolean;
  /** Resolves when done (the dialog then closes); throws to keep it open with the error. */
  onConfirm: (form: HTMLFormElement) => Promise<void>;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const titleId = useId();
  const descId = useId();

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    if (!form.reportValidity()) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm(form);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onClose={onClose}
      onCancel={(e) => {
        if (busy) e.preventDefault();
      }}
    >
      <form method="dialog" onSubmit={submit} noValidate={false}>
        <h2 id={titleId}>{title}</h2>
        {description && (
          <div id={descId} class="dialog-desc">
            {description}
          </div>
        )}
        <div class="dialog-fields">{children}</div>
        <ErrorBox error={error} />
        <div class="dialog-buttons">
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            Close
          </button>
          <button type="submit" class={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A labelled form field; the label names the control for screen readers and tests alike. */
export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: string;
  hint?: ComponentChildren;
  id: string;
  children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <div class="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
    </div>
  );
}

/** The required `Reason` every audited action carries. */
export function ReasonField({
  name = 'reason',
  labelText = 'Reason',
}: {
  name?: string;
  labelText?: string;
}) {
  const id = useId();
  return (
    <Field label={labelText} id={id} hint="Recorded with the action in the audit trail.">
      <textarea id={id} name={name} required maxLength={1000} rows={3} aria-describedby={`${id}-hint`} />
    </Field>
  );
}
