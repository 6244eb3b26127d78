// The agency's settings (admins only): read from GET /api/settings; editing comes later.
import { ApiError, getJson } from "../api";
import type { Session } from "../auth";
import { ErrorBox, Loading, useResource } from "../components";
import { LANGUAGE_NAMES } from "../format";
import type { Settings as AgencySettings } from "../types";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

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
      {settings.error !== null ? (
        <ErrorBox error={settings.error} retry={() => void settings.reload()} />
      ) : !settings.data ? (
        <Loading what="settings" />
      ) : (
        <dl class="settings">
          <Row name="Languages" value={settings.data.languages.map((l) => LANGUAGE_NAMES[l] ?? l).join(", ")} />
          <Row name="Default language" value={LANGUAGE_NAMES[settings.data.default_language] ?? settings.data.default_language} />
          <Row
            name="Conversation"
            value={
              settings.data.flow_mode === "qa_first"
                ? `Questions first, qualifying after ${settings.data.qa_first_after} messages`
                : "Guided qualification"
            }
          />
          <Row name="Ghost follow-up after" value={`${settings.data.ghost_after_minutes} minutes`} />
          <Row name="Campaign days" value={settings.data.campaign_days.join(", ") || "none"} />
          <Row name="Quiet hours" value={`${settings.data.quiet_hours_start}:00 – ${settings.data.quiet_hours_end}:00`} />
          <Row name="Scarcity threshold" value={`${settings.data.scarcity_threshold} units`} />
          <Row
            name="Business hours"
            value={`${settings.data.business_days.map((d) => DAYS[d] ?? d).join(", ")} ${settings.data.business_hours_start}:00 – ${settings.data.business_hours_end}:00`}
          />
          <Row name="Handoff SLA" value={`${settings.data.handoff_sla_minutes} minutes`} />
          <Row name="Broker commission" value={settings.data.broker_commission_rate} />
          <Row name="Platform commission" value={settings.data.platform_commission_rate} />
          <Row name="Admin chats" value={String(settings.data.admin_chats)} />
          <Row name="Airtable" value={settings.data.airtable_connected ? `connected (${settings.data.airtable_base_id})` : "not connected"} />
          <Row name="Own follow-up wording" value={Object.keys(settings.data.followup_templates).join(", ") || "none"} />
        </dl>
      )}
    </section>
  );
}

function Row({ name, value }: { name: string; value: string }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}
