// Who is signed in: the id token (Cognito's, or the local stack's dev token) and its claims.
import type { SiteConfig } from "./config";

const SESSION_KEY = "leadbot.id_token";
const PKCE_KEY = "leadbot.pkce";
export const CALLBACK_PATH = "/auth/callback";

export interface Claims {
  email: string;
  sub: string;
  tenant: string;
  role: "agent" | "admin";
  exp: number;
}

export interface Session {
  token: string;
  claims: Claims;
}

function base64UrlDecode(part: string): string {
  const padded = part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function base64UrlEncode(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The claims of an id token, read (not verified: the API's authorizer verifies every call). */
export function readClaims(token: string): Claims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const raw = JSON.parse(base64UrlDecode(payload)) as Record<string, unknown>;
    const role = raw["custom:role"];
    if (role !== "agent" && role !== "admin") return null;
    return {
      email: String(raw["email"] ?? ""),
      sub: String(raw["sub"] ?? ""),
      tenant: String(raw["custom:tenant_id"] ?? ""),
      role,
      exp: Number(raw["exp"] ?? 0),
    };
  } catch {
    return null;
  }
}

export function currentSession(now: number = Date.now()): Session | null {
  const token = localStorage.getItem(SESSION_KEY);
  if (!token) return null;
  const claims = readClaims(token);
  if (!claims || claims.exp * 1000 <= now) {
    localStorage.removeItem(SESSION_KEY);
    return null;
  }
  return { token, claims };
}

export function startSession(token: string): Session {
  const claims = readClaims(token);
  if (!claims) throw new Error("that is not a dashboard user's id token");
  localStorage.setItem(SESSION_KEY, token);
  return { token, claims };
}

/** Forget the token; with Cognito also end the hosted UI's session (it redirects back). */
export function signOut(config: SiteConfig): void {
  localStorage.removeItem(SESSION_KEY);
  if (config.auth.mode === "cognito") {
    const url = new URL(`${cognitoBase(config.auth.domain)}/logout`);
    url.searchParams.set("client_id", config.auth.client_id);
    url.searchParams.set("logout_uri", `${location.origin}/`);
    location.assign(url.toString());
  }
}

function cognitoBase(domain: string): string {
  return (domain.startsWith("https://") ? domain : `https://${domain}`).replace(/\/+$/, "");
}

function randomString(bytes: number): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Cognito hosted UI, OAuth 2.0 authorization code with PKCE (RFC 7636, S256). */
export async function beginCognitoSignIn(config: SiteConfig, returnTo: string): Promise<void> {
  if (config.auth.mode !== "cognito") throw new Error("not a Cognito deployment");
  const verifier = randomString(48);
  const state = randomString(24);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(`${cognitoBase(config.auth.domain)}/oauth2/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.auth.client_id);
  url.searchParams.set("redirect_uri", `${location.origin}${CALLBACK_PATH}`);
  url.searchParams.set("scope", (config.auth.scopes ?? ["openid", "email", "profile"]).join(" "));
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", base64UrlEncode(new Uint8Array(digest)));
  url.searchParams.set("code_challenge_method", "S256");
  location.assign(url.toString());
}

/** The hosted UI sent the browser back with ?code&state: trade the code for tokens. */
export async function completeCognitoSignIn(
  config: SiteConfig,
  search: string,
): Promise<{ session: Session; returnTo: string }> {
  if (config.auth.mode !== "cognito") throw new Error("not a Cognito deployment");
  const params = new URLSearchParams(search);
  const error = params.get("error");
  if (error) throw new Error(params.get("error_description") ?? error);
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  const pending = saved ? (JSON.parse(saved) as { verifier: string; state: string; returnTo: string }) : null;
  const code = params.get("code");
  if (!pending || !code || params.get("state") !== pending.state) {
    throw new Error("this sign-in was not started here, or has expired; sign in again");
  }
  const response = await fetch(`${cognitoBase(config.auth.domain)}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.auth.client_id,
      code,
      redirect_uri: `${location.origin}${CALLBACK_PATH}`,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`sign-in failed (HTTP ${response.status})`);
  const tokens = (await response.json()) as { id_token?: string };
  if (!tokens.id_token) throw new Error("sign-in returned no id token");
  return { session: startSession(tokens.id_token), returnTo: pending.returnTo || "/" };
}
