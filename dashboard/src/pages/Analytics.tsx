// Analytics: GET /api/stats (funnel, temperatures, sources, speed to lead) and the monthly revenue.
import { useState } from "preact/hooks";
import { getJson } from "../api";
import { Columns, HorizontalBars, type Bar } from "../charts";
import { ErrorBox, Loading, useResource } from "../components";
import { formatAmount, TEMPERATURE_BADGE } from "../format";
import { TEMPERATURES, type Revenue, type Stats } from "../types";
import "./pages.css";

const RANGES = {
  all: { label: "All time", days: null },
  "30": { label: "Last 30 days", days: 30 },
  "90": { label: "Last 90 days", days: 90 },
  "365": { label: "Last 12 months", days: 365 },
} as const;
type Range = keyof typeof RANGES;

const TEMPERATURE_COLORS: Record<string, string> = {
  burning: "#b42318",
  hot: "#c2410c",
  warm: "#a16207",
  cold: "#1d4ed8",
};

const FUNNEL: [keyof Stats["funnel"], string][] = [
  ["conversations", "Conversations"],
  ["qualified", "Qualified"],
  ["broker_requested", "Broker requested"],
  ["viewing_scheduled", "Viewing scheduled"],
  ["won", "Won"],
];

function month(date: Date): string {
  return date.toISOString().slice(0, 7);
}

export function Analytics() {
  const [range, setRange] = useState<Range>("all");
  const days = RANGES[range].days;
  const from = days === null ? undefined : new Date(Date.now() - days * 86_400_000);
  const stats = useResource(() => getJson<Stats>("/api/stats", { from: from?.toISOString() }), [range]);
  const revenue = useResource(
    () => getJson<Revenue>("/api/deals/revenue", { since: from ? month(from) : undefined }),
    [range],
  );

  return (
    <section aria-labelledby="analytics-title">
      <div class="page-head">
        <h1 id="analytics-title">Analytics</h1>
        <label class="inline">
          Leads created
          <select name="range" value={range} onChange={(e) => setRange(e.currentTarget.value as Range)}>
            {Object.entries(RANGES).map(([key, r]) => (
              <option value={key}>{r.label}</option>
            ))}
          </select>
        </label>
      </div>
      {stats.error !== null ? (
        <ErrorBox error={stats.error} retry={() => void stats.reload()} />
      ) : !stats.data ? (
        <Loading what="the figures" />
      ) : (
        <StatsCharts stats={stats.data} />
      )}
      <section class="panel" aria-labelledby="revenue-title">
        <h2 id="revenue-title">Revenue</h2>
        {revenue.error !== null ? (
          <ErrorBox error={revenue.error} retry={() => void revenue.reload()} />
        ) : !revenue.data ? (
          <Loading what="the revenue" />
        ) : (
          <RevenueChart revenue={revenue.data} />
        )}
      </section>
    </section>
  );
}

function StatsCharts({ stats }: { stats: Stats }) {
  const conversations = stats.funnel.conversations;
  const funnel: Bar[] = FUNNEL.map(([key, label]) => {
    const value = stats.funnel[key];
    const share = conversations > 0 && key !== "conversations" ? ` (${Math.round((value / conversations) * 100)}%)` : "";
    return { label, value, shown: `${value}${share}` };
  });
  const known = TEMPERATURES.map((t) => ({
    label: `${TEMPERATURE_BADGE[t].icon} ${TEMPERATURE_BADGE[t].label}`,
    value: stats.temperatures[t] ?? 0,
    color: TEMPERATURE_COLORS[t],
  }));
  const others = Object.entries(stats.temperatures)
    .filter(([t]) => !(TEMPERATURES as readonly string[]).includes(t))
    .map(([label, value]) => ({ label, value, color: "#6b7280" }));
  const sources = Object.entries(stats.sources)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([label, value]) => ({ label, value }));
  const speed = stats.speed_to_lead;

  return (
    <div class="charts">
      <section class="panel" aria-labelledby="funnel-h">
        <h2 id="funnel-h">Funnel</h2>
        <HorizontalBars id="funnel" title="Leads at each step" bars={funnel} note="A lead counts at the furthest step it reached." />
      </section>
      <section class="panel" aria-labelledby="temperature-h">
        <h2 id="temperature-h">Temperature</h2>
        <HorizontalBars id="temperatures" title="Leads by temperature" bars={[...known, ...others]} />
      </section>
      <section class="panel" aria-labelledby="sources-h">
        <h2 id="sources-h">Sources</h2>
        {sources.length === 0 ? <p class="empty">No leads in this range.</p> : <HorizontalBars id="sources" title="Leads by source" bars={sources} />}
      </section>
      <section class="panel" aria-labelledby="speed-h">
        <h2 id="speed-h">Speed to lead</h2>
        <dl class="figures" data-chart="speed">
          <div>
            <dt>Median, phone to first action</dt>
            <dd data-figure="median_minutes">{speed.median_minutes === null ? "—" : `${formatMinutes(speed.median_minutes)}`}</dd>
          </div>
          <div>
            <dt>Handled within 5 minutes</dt>
            <dd data-figure="within_5_minutes">{speed.within_5_minutes === null ? "—" : `${Math.round(speed.within_5_minutes * 100)}%`}</dd>
          </div>
          <div>
            <dt>Left a phone</dt>
            <dd data-figure="with_phone">{speed.with_phone}</dd>
          </div>
          <div>
            <dt>Acted on</dt>
            <dd data-figure="handled">{speed.handled}</dd>
          </div>
          <div>
            <dt>No action yet</dt>
            <dd data-figure="no_action_yet">{speed.no_action_yet}</dd>
          </div>
        </dl>
        <HorizontalBars
          id="speed"
          title="Leads with a phone"
          bars={[
            { label: "Acted on", value: speed.handled, color: "#17612e" },
            { label: "No action yet", value: speed.no_action_yet, color: "#a61b1b" },
          ]}
        />
      </section>
    </div>
  );
}

function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${Math.round(minutes * 10) / 10} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${Math.round(minutes - hours * 60)} min`;
}

function RevenueChart({ revenue }: { revenue: Revenue }) {
  const currencies = [...new Set(revenue.items.flatMap((m) => m.totals.map((t) => t.currency)))].sort();
  const [chosen, setChosen] = useState<string | null>(null);
  const currency = chosen && currencies.includes(chosen) ? chosen : currencies[0];
  if (!currency) return <p class="empty">No deals won yet in this range.</p>;
  // Oldest month first; the amounts shown are the API's strings, the bar heights only scale them.
  const months = [...revenue.items].reverse().slice(-12);
  const bars: Bar[] = months.map((m) => {
    const totals = m.totals.find((t) => t.currency === currency);
    return { label: m.month, value: totals ? Number(totals.value) : 0, shown: totals ? `${formatAmount(totals.value)} ${currency}` : `0 ${currency}` };
  });
  return (
    <>
      {currencies.length > 1 && (
        <label class="inline">
          Currency
          <select value={currency} onChange={(e) => setChosen(e.currentTarget.value)}>
            {currencies.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
      )}
      <Columns id="revenue" title={`Won deals' value per month (${currency})`} bars={bars} note="Months in UTC, by when the deal was won; currencies are never added together." />
      <table class="data revenue">
        <caption>Won deals per month ({currency})</caption>
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col">Deals</th>
            <th scope="col">Value</th>
            <th scope="col">Broker commission</th>
            <th scope="col">Platform commission</th>
          </tr>
        </thead>
        <tbody>
          {[...revenue.items].map((m) => {
            const t = m.totals.find((x) => x.currency === currency);
            return t ? (
              <tr key={m.month} data-month={m.month}>
                <th scope="row" data-label="Month">{m.month}</th>
                <td data-label="Deals">{t.deals}</td>
                <td data-label="Value">{formatAmount(t.value)}</td>
                <td data-label="Broker commission">{formatAmount(t.broker_commission)}</td>
                <td data-label="Platform commission">{formatAmount(t.platform_commission)}</td>
              </tr>
            ) : null;
          })}
        </tbody>
      </table>
    </>
  );
}
