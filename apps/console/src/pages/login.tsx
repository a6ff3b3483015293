import { useState } from 'preact/hooks';

export function LoginPage(p: {
  checking: boolean;
  error: string | undefined;
  onToken: (token: string) => void;
}) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const submit = (e: Event) => {
    e.preventDefault();
    const token = value.trim();
    if (!/^\S+$/.test(token)) {
      setProblem('Paste the whole token: it is one word, without spaces.');
      return;
    }
    setProblem(undefined);
    p.onToken(token);
  };
  const message = problem ?? p.error;
  return (
    <main id="main" class="login">
      <h1>fedistill console</h1>
      <p>
        Watch the federation's sites, rounds, privacy spending, students and audit log. Sign in with an access
        token: the operator token from the coordinator's configuration (admin.operatorToken), or a read-only
        auditor token an operator created. The token stays in this browser tab only.
      </p>
      <form onSubmit={submit} aria-describedby={message ? 'login-error' : undefined}>
        <label for="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={p.checking}>
          {p.checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      {message && (
        <p id="login-error" class="error" role="alert">
          {message}
        </p>
      )}
    </main>
  );
}
