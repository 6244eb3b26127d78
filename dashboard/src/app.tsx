// The shell: configuration, who is signed in, the navigation and which page shows.
import { useEffect, useRef, useState } from "preact/hooks";
import { setApiContext } from "./api";
import { CALLBACK_PATH, currentSession, signOut, type Session } from "./auth";
import { ErrorBox, Loading, useResource } from "./components";
import { loadConfig, type SiteConfig } from "./config";
import { Board } from "./pages/Board";
import { STAGE2_PAGES } from "./pages/stage2";
import { LeadPage } from "./pages/Lead";
import { Settings } from "./pages/Settings";
import { Callback, SignIn } from "./pages/SignIn";
import { TryBot } from "./pages/TryBot";
import { Link, useLocation } from "./router";

// The chat simulator, only where config.json offers one (the local stack).
const TRY_PATH = "/try";
const LEAD_PATH = /^\/leads\/([0-9A-HJKMNP-TV-Z]{26})\/?$/;

export function App() {
  const config = useResource(loadConfig, []);
  if (config.error) {
    return (
      <main id="main" class="container">
        <ErrorBox error={config.error} retry={() => void config.reload()} />
      </main>
    );
  }
  if (!config.data) {
    return (
      <main id="main" class="container">
        <Loading what="LeadBot" />
      </main>
    );
  }
  return <SignedIn config={config.data} />;
}

function SignedIn({ config }: { config: SiteConfig }) {
  const [session, setSession] = useState<Session | null>(() => currentSession());
  const { path } = useLocation();
  const end = () => {
    signOut(config);
    setSession(null);
  };
  setApiContext(session ? { base: config.api_base, token: session.token, onUnauthorized: end } : null);
  // After a client-side navigation or signing in, keyboard and screen reader users start at the new page's
  // content, as they would after a full page load (not on the link that is gone).
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path, session?.token]);

  let page;
  if (path === CALLBACK_PATH) page = <Callback config={config} onSignedIn={setSession} />;
  else if (!session) page = <SignIn config={config} onSignedIn={setSession} />;
  else if (path === "/") page = <Board config={config} />;
  else if (path === "/settings") page = <Settings session={session} />;
  else if (STAGE2_PAGES[path]) page = STAGE2_PAGES[path]!.render(session);
  else if (path === TRY_PATH && config.simulator) page = <TryBot config={config} session={session} />;
  else {
    const lead = LEAD_PATH.exec(path);
    page = lead ? (
      <LeadPage key={lead[1]} leadId={lead[1]!} config={config} />
    ) : (
      <section>
        <h1>Not found</h1>
        <p>
          There is no page at this address. <Link href="/">Go to the leads</Link>
        </p>
      </section>
    );
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">LeadBot</span>
        {session && (
          <nav aria-label="Main">
            <Link href="/" aria-current={path === "/" || path.startsWith("/leads/") ? "page" : undefined}>
              Leads
            </Link>
            {Object.entries(STAGE2_PAGES).map(([href, p]) => (
              <Link href={href} aria-current={path === href ? "page" : undefined}>
                {p.label}
              </Link>
            ))}
            {config.simulator && (
              <Link href={TRY_PATH} aria-current={path === TRY_PATH ? "page" : undefined}>
                Try the bot
              </Link>
            )}
            {session.claims.role === "admin" && (
              <Link href="/settings" aria-current={path === "/settings" ? "page" : undefined}>
                Settings
              </Link>
            )}
          </nav>
        )}
        {session && (
          <div class="user">
            <span class="who">
              {session.claims.email} <small>({session.claims.role})</small>
            </span>
            <button type="button" class="secondary" onClick={end}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" class="container" tabIndex={-1} ref={main}>
        {page}
      </main>
    </>
  );
}
