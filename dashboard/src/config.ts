// config.json: where the API is and how users sign in, written next to the build at deploy time.

export type AuthConfig =
  | { mode: "local"; tokens_url: string }
  | { mode: "cognito"; domain: string; client_id: string; scopes?: string[] };

export interface SiteConfig {
  /** Prefix of /api/* requests: "" when the API shares the dashboard's origin. */
  api_base: string;
  auth: AuthConfig;
  /** How often the board and an open lead refresh themselves. */
  poll_seconds: number;
  /** The chat simulator ("Try the bot"): only the local stack has one, so only it says so. */
  simulator?: SimulatorConfig;
}

export interface SimulatorConfig {
  /** POST a Telegram update as a lead; `{tenant}` is the signed-in user's agency. */
  updates_url: string;
  /** What the fake Bot API was sent, filtered by `?chat_id=`. */
  outbox_url: string;
}

export async function loadConfig(): Promise<SiteConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const raw = (await response.json()) as Partial<SiteConfig>;
  if (!raw.auth || (raw.auth.mode !== "local" && raw.auth.mode !== "cognito")) {
    throw new Error("config.json: auth.mode must be local or cognito");
  }
  return {
    api_base: (raw.api_base ?? "").replace(/\/+$/, ""),
    auth: raw.auth,
    poll_seconds: raw.poll_seconds && raw.poll_seconds > 0 ? raw.poll_seconds : 5,
    ...(raw.simulator?.updates_url && raw.simulator.outbox_url ? { simulator: raw.simulator } : {}),
  };
}
