// The agency's settings (admins only): edited with PATCH /api/settings, and one-time admin codes.
import { useState } from "preact/hooks";
import { ApiError, getJson, patchJson, postJson } from "../api";
import type { Session } from "../auth";
import { ErrorBox, Loading, useAction, useResource } from "../components";
import { formatTime, LANGUAGE_NAMES } from "../format";
import { LANGUAGES, type AdminCode, type Settings as AgencySettings } from "../types";
import "./pages.css";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const NUMBERS = [
  "qa_first_after",
  "ghost_after_minutes",
  "quiet_hours_start",
  "quiet_hours_end",
  "scarcity_threshold",
  "business_hours_start",
  "business_hours_end",
  "handoff_sla_minutes",
] as const;
type NumberSetting = (typeof NUMBERS)[number];

export function Settings({ session }: { session: Session }) {
  if (session.claims.role !== "admin") return <AdminsOnly />;
  return <SettingsView />;
}

function AdminsOnly() {
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <p class="refusal" role="alert">
        Settings are for your agency's admins. Ask an admin to change them.
      </p>
    </section>
  );
}

function SettingsView() {
  const settings = useResource(() => getJson<AgencySettings>("/api/settings"), []);
  if (settings.error instanceof ApiError && settings.error.status === 403) return <AdminsOnly />;
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {settings.error !== null && !settings.data ? (
        <ErrorBox error={settings.error} retry={() => void settings.reload()} />
      ) : !settings.data ? (
        <Loading what="settings" />
      ) : (
        <>
          <SettingsForm saved={settings.data} onSaved={settings.set} />
          <AdminCodePanel adminChats={settings.data.admin_chats} />
        </>
      )}
    </section>
  );
}

interface Draft {
  languages: string[];
  default_language: string;
  flow_mode: string;
  numbers: Record<NumberSetting, string>;
  campaign_days: string;
  business_days: number[];
  broker_commission_rate: string;
  platform_commission_rate: string;
  airtable_base_id: string;
  templates: Record<string, Record<string, string>>;
}

function draftOf(s: AgencySettings): Draft {
  return {
    languages: [...s.languages],
    default_language: s.default_language,
    flow_mode: s.flow_mode,
    numbers: Object.fromEntries(NUMBERS.map((n) => [n, String(s[n])])) as Record<NumberSetting, string>,
    campaign_days: s.campaign_days.join(", "),
    business_days: [...s.business_days],
    broker_commission_rate: s.broker_commission_rate,
    platform_commission_rate: s.platform_commission_rate,
    airtable_base_id: s.airtable_base_id ?? "",
    templates: s.followup_templates,
  };
}

/** Typed numbers go as numbers; anything else as typed, for the API to name what is wrong. */
function number(text: string): number | string {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim();
}

function days(text: string): (number | string)[] {
  return text.split(/[\s,]+/).filter(Boolean).map(number);
}

function templateSteps(campaignDays: string): string[] {
  return ["ghost", ...days(campaignDays).slice(0, 5).map((_, i) => `campaign_${i + 1}`)];
}

/** Only what the admin changed: PATCH leaves everything else as it is. */
function changes(draft: Draft, saved: AgencySettings): Record<string, unknown> {
  const before = draftOf(saved);
  const out: Record<string, unknown> = {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(draft.languages, before.languages)) out["languages"] = draft.languages;
  if (draft.default_language !== before.default_language) out["default_language"] = draft.default_language;
  if (draft.flow_mode !== before.flow_mode) out["flow_mode"] = draft.flow_mode;
  for (const name of NUMBERS) if (draft.numbers[name].trim() !== before.numbers[name]) out[name] = number(draft.numbers[name]);
  if (!same(days(draft.campaign_days), saved.campaign_days)) out["campaign_days"] = days(draft.campaign_days);
  if (!same(draft.business_days, before.business_days)) out["business_days"] = draft.business_days;
  for (const name of ["broker_commission_rate", "platform_commission_rate"] as const) {
    if (draft[name].trim() !== before[name]) out[name] = draft[name].trim();
  }
  if (draft.airtable_base_id.trim() !== before.airtable_base_id) out["airtable_base_id"] = draft.airtable_base_id.trim() || null;
  const templates: Record<string, Record<string, string | null>> = {};
  for (const [step, byLanguage] of Object.entries(draft.templates)) {
    for (const [language, text] of Object.entries(byLanguage)) {
      const was = saved.followup_templates[step]?.[language] ?? "";
      if (text === was) continue;
      (templates[step] ??= {})[language] = text.trim() ? text : null;
    }
  }
  if (Object.keys(templates).length) out["followup_templates"] = templates;
  return out;
}

function SettingsForm({ saved, onSaved }: { saved: AgencySettings; onSaved: (s: AgencySettings) => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(saved));
  const [done, setDone] = useState<string | null>(null);
  const pending = changes(draft, saved);
  const save = useAction(async () => {
    const names = Object.keys(pending);
    const result = await patchJson<AgencySettings>("/api/settings", pending);
    onSaved(result);
    setDraft(draftOf(result));
    setDone(`Saved: ${names.join(", ").replace(/_/g, " ")}.`);
  });
  const numberField = (name: NumberSetting, min: number, max: number) => ({
    name,
    type: "number" as const,
    min,
    max,
    step: 1,
    value: draft.numbers[name],
    onInput: (e: Event) => {
      setDone(null);
      setDraft({ ...draft, numbers: { ...draft.numbers, [name]: (e.currentTarget as HTMLInputElement).value } });
    },
  });
  const text = (name: "campaign_days" | "broker_commission_rate" | "platform_commission_rate" | "airtable_base_id") => ({
    name,
    value: draft[name],
    onInput: (e: Event) => {
      setDone(null);
      setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value });
    },
  });
  const toggle = <T,>(list: T[], item: T, on: boolean, order: T[]) =>
    order.filter((x) => (x === item ? on : list.includes(x)));
  const setTemplate = (step: string, language: string, value: string) => {
    setDone(null);
    setDraft({ ...draft, templates: { ...draft.templates, [step]: { ...(draft.templates[step] ?? {}), [language]: value } } });
  };
  const count = Object.keys(pending).length;

  return (
    <form
      class="settings-form"
      aria-label="Agency settings"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <fieldset class="panel">
        <legend>Languages and conversation</legend>
        <div class="checks" role="group" aria-label="Languages the bot offers">
          {LANGUAGES.map((l) => (
            <label class="check">
              <input
                type="checkbox"
                name="languages"
                value={l}
                checked={draft.languages.includes(l)}
                onChange={(e) => {
                  setDone(null);
                  setDraft({ ...draft, languages: toggle(draft.languages, l, e.currentTarget.checked, [...draft.languages, ...LANGUAGES.filter((x) => !draft.languages.includes(x))]) });
                }}
              />
              {LANGUAGE_NAMES[l]}
            </label>
          ))}
        </div>
        <div class="form-grid">
          <label>
            Default language
            <select name="default_language" value={draft.default_language} onChange={(e) => setDraft({ ...draft, default_language: e.currentTarget.value })}>
              {LANGUAGES.map((l) => (
                <option value={l}>{LANGUAGE_NAMES[l]}</option>
              ))}
            </select>
          </label>
          <label>
            Flow
            <select name="flow_mode" value={draft.flow_mode} onChange={(e) => setDraft({ ...draft, flow_mode: e.currentTarget.value })}>
              <option value="guided">Guided: qualifying questions first</option>
              <option value="qa_first">Questions first, then qualifying</option>
            </select>
          </label>
          <label>
            Qualify after (lead messages, questions first)
            <input {...numberField("qa_first_after", 1, 20)} />
          </label>
          <div class="field">
            <label>
              Scarcity threshold (units)
              <input {...numberField("scarcity_threshold", 0, 50)} aria-describedby="scarcity-help" />
            </label>
            <small id="scarcity-help" class="meta">
              “Only N units left” is said only when a listing really has N ≤ this.
            </small>
          </div>
        </div>
      </fieldset>

      <fieldset class="panel">
        <legend>Follow-ups</legend>
        <div class="form-grid">
          <label>
            Ghost follow-up after (minutes)
            <input {...numberField("ghost_after_minutes", 30, 10080)} />
          </label>
          <div class="field">
            <label>
              Campaign days
              <input {...text("campaign_days")} placeholder="1, 3, 7" aria-describedby="campaign-help" />
            </label>
            <small id="campaign-help" class="meta">
              Days after the last message, increasing, up to 5; empty for none.
            </small>
          </div>
          <label>
            Quiet hours from (0–23)
            <input {...numberField("quiet_hours_start", 0, 23)} />
          </label>
          <label>
            Quiet hours until (0–23)
            <input {...numberField("quiet_hours_end", 0, 23)} />
          </label>
        </div>
        <h3>Your own wording</h3>
        <p class="meta">
          Leave empty for the built-in wording. A template may use {"{name}"} and {"{agency}"}.
        </p>
        <div class="templates">
          {templateSteps(draft.campaign_days).map((step) => (
            <fieldset key={step}>
              <legend>{step === "ghost" ? "Ghost follow-up" : `Campaign step ${step.slice(9)}`}</legend>
              {draft.languages.map((language) => (
                <label key={language}>
                  {LANGUAGE_NAMES[language] ?? language}
                  <textarea
                    name={`template-${step}-${language}`}
                    rows={2}
                    maxLength={1000}
                    dir="auto"
                    lang={language}
                    value={draft.templates[step]?.[language] ?? ""}
                    onInput={(e) => setTemplate(step, language, e.currentTarget.value)}
                  />
                </label>
              ))}
            </fieldset>
          ))}
        </div>
      </fieldset>

      <fieldset class="panel">
        <legend>Business hours and handoff</legend>
        <div class="checks" role="group" aria-label="Business days">
          {DAYS.map((day, index) => (
            <label class="check">
              <input
                type="checkbox"
                name="business_days"
                value={index}
                checked={draft.business_days.includes(index)}
                onChange={(e) => {
                  setDone(null);
                  setDraft({ ...draft, business_days: toggle(draft.business_days, index, e.currentTarget.checked, [0, 1, 2, 3, 4, 5, 6]) });
                }}
              />
              {day}
            </label>
          ))}
        </div>
        <div class="form-grid">
          <label>
            Opens at (hour)
            <input {...numberField("business_hours_start", 0, 23)} />
          </label>
          <label>
            Closes at (hour)
            <input {...numberField("business_hours_end", 1, 24)} />
          </label>
          <label>
            Handoff SLA (minutes)
            <input {...numberField("handoff_sla_minutes", 1, 240)} />
          </label>
        </div>
      </fieldset>

      <fieldset class="panel">
        <legend>Commission and CRM</legend>
        <div class="form-grid">
          <label>
            Broker commission rate (of a deal's value)
            <input {...text("broker_commission_rate")} inputMode="decimal" placeholder="0.02" />
          </label>
          <label>
            Platform commission rate (of the broker's commission)
            <input {...text("platform_commission_rate")} inputMode="decimal" placeholder="0.25" />
          </label>
          <div class="field">
            <label>
              Airtable base id
              <input {...text("airtable_base_id")} placeholder="appXXXXXXXXXXXXXX" autocomplete="off" aria-describedby="airtable-help" />
            </label>
            <small id="airtable-help" class="meta">
              {saved.airtable_connected ? "Connected: leads and deals sync." : "Not connected (ops set the access token)."}
            </small>
          </div>
        </div>
      </fieldset>

      <div class="save-bar">
        {save.error !== null && <ErrorBox error={save.error} />}
        <p class="live" role="status" aria-live="polite">
          {done ?? (count ? `${count} unsaved ${count === 1 ? "change" : "changes"}` : "")}
        </p>
        <div class="actions">
          <button type="submit" disabled={save.busy || count === 0}>
            {save.busy ? "Saving…" : "Save settings"}
          </button>
          <button
            type="button"
            class="secondary"
            disabled={save.busy || count === 0}
            onClick={() => {
              setDraft(draftOf(saved));
              save.clear();
            }}
          >
            Discard changes
          </button>
        </div>
      </div>
    </form>
  );
}

function AdminCodePanel({ adminChats }: { adminChats: number }) {
  const [code, setCode] = useState<AdminCode | null>(null);
  const issue = useAction(async () => {
    setCode(await postJson<AdminCode>("/api/settings/admin-code", {}));
  });
  return (
    <section class="panel" aria-labelledby="admin-code-title">
      <h2 id="admin-code-title">Admin alerts on Telegram</h2>
      <p>
        {adminChats === 1 ? "1 Telegram chat gets" : `${adminChats} Telegram chats get`} hot-lead alerts. To add one, issue a
        one-time code and send <code>/set_admin &lt;code&gt;</code> to the agency's bot from that chat within 24 hours.
      </p>
      {code && (
        <div class="code-box" role="status">
          <p>
            Send this to the bot (shown only once):{" "}
            <code class="admin-code" data-code={code.code}>
              /set_admin {code.code}
            </code>
          </p>
          <p class="meta">Valid until {formatTime(code.expires_at)}.</p>
        </div>
      )}
      {issue.error !== null && <ErrorBox error={issue.error} />}
      <button type="button" onClick={() => void issue.run()} disabled={issue.busy}>
        {issue.busy ? "Issuing…" : code ? "Issue another code" : "Issue a one-time admin code"}
      </button>
    </section>
  );
}
