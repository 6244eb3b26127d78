// Signing in: the local stack's demo users, or Cognito's hosted UI in AWS.
import { useState } from "preact/hooks";
import { beginCognitoSignIn, completeCognitoSignIn, readClaims, startSession, type Session } from "../auth";
import { ErrorBox, Loading, useResource } from "../components";
import type { SiteConfig } from "../config";
import { navigate } from "../router";

export function SignIn({ config, onSignedIn }: { config: SiteConfig; onSignedIn: (session: Session) => void }) {
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to LeadBot</h1>
      {config.auth.mode === "local" ? (
        <LocalUsers url={config.auth.tokens_url} onSignedIn={onSignedIn} />
      ) : (
        <CognitoButton config={config} />
      )}
    </section>
  );
}

function LocalUsers({ url, onSignedIn }: { url: string; onSignedIn: (session: Session) => void }) {
  const tokens = useResource(async () => {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`the demo users could not be loaded (HTTP ${response.status})`);
    return (await response.json()) as Record<string, string>;
  }, [url]);
  if (tokens.error) return <ErrorBox error={tokens.error} retry={() => void tokens.reload()} />;
  if (!tokens.data) return <Loading what="demo users" />;
  const users = Object.entries(tokens.data)
    .map(([name, token]) => ({ name, token, claims: readClaims(token) }))
    .filter((user) => user.claims !== null);
  return (
    <>
      <p>This is the local stack: pick a demo user.</p>
      <ul class="users">
        {users.map(({ name, token, claims }) => (
          <li key={name}>
            <button type="button" data-user={name} onClick={() => onSignedIn(startSession(token))}>
              <strong>{claims!.email}</strong>
              <span>
                {claims!.role} of {claims!.tenant}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function CognitoButton({ config }: { config: SiteConfig }) {
  const [error, setError] = useState<unknown>(null);
  const start = () => {
    setError(null);
    beginCognitoSignIn(config, location.pathname + location.search).catch(setError);
  };
  return (
    <>
      <p>Sign in with the account your agency gave you.</p>
      <button type="button" onClick={start}>
        Sign in
      </button>
      {error !== null && <ErrorBox error={error} />}
    </>
  );
}

/** Where Cognito's hosted UI sends the browser back with the authorization code. */
export function Callback({ config, onSignedIn }: { config: SiteConfig; onSignedIn: (session: Session) => void }) {
  const done = useResource(async () => {
    const { session, returnTo } = await completeCognitoSignIn(config, location.search);
    onSignedIn(session);
    navigate(returnTo.startsWith("/") ? returnTo : "/", true);
    return true;
  }, []);
  if (done.error) {
    return (
      <section aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign-in failed</h1>
        <ErrorBox error={done.error} />
        <button type="button" onClick={() => navigate("/", true)}>
          Back to sign in
        </button>
      </section>
    );
  }
  return <Loading what="your session" />;
}
