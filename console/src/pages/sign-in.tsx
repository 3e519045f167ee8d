import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, getMe, setKey, type Me } from '../api';
import { Brand, ErrorBox } from '../components/common';

const REFUSED: Record<string, string> = {
  app: 'This is an app key. The console is for operators: sign in with an operator or approver key.',
  platform:
    'This is a platform key, which belongs to no tenant. Sign in with an operator or approver key of a tenant.',
};

/** Sign in with an operator or approver key; an app or platform key is refused with its reason. */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice?: string | null }) {
  const [error, setError] = useState<unknown>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = input.current?.value.trim() ?? '';
    setError(null);
    setRefused(null);
    if (!key) {
      setRefused('Enter an API key.');
      return;
    }
    setBusy(true);
    try {
      const me = await getMe(key);
      const why = REFUSED[me.role] ?? (me.tenant ? null : REFUSED.platform!);
      if (why) {
        setRefused(why);
        return;
      }
      setKey(key);
      if (input.current) input.current.value = '';
      onSignedIn(me);
    } catch (err) {
      setError(
        err instanceof ApiFailure && err.status === 401
          ? new ApiFailure(401, err.code, `${err.message}. Check the key and try again.`)
          : err,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <div class="signin-card">
        <Brand large />
        <h1>Sign in</h1>
        <p class="muted">
          Use an operator or approver key of your program. The key stays in this browser tab only and is sent
          to the API in a header, never in an address.
        </p>
        {notice && (
          <div class="alert alert-info" role="status">
            {notice}
          </div>
        )}
        <form onSubmit={submit}>
          <div class="field">
            <label for="api-key">API key</label>
            <input
              ref={input}
              id="api-key"
              name="api-key"
              type="password"
              autoComplete="off"
              spellcheck={false}
              required
            />
          </div>
          {refused && (
            <div class="alert alert-error" role="alert">
              {refused}
            </div>
          )}
          <ErrorBox error={error} title="Sign-in failed" />
          <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
