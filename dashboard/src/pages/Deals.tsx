// Deals: record one on a lead, win or lose it; every figure of money is the API's, never the page's.
import { useState } from "preact/hooks";
import { getJson, patchJson, postJson } from "../api";
import { ErrorBox, Loading, useAction, useResource } from "../components";
import { formatAmount, formatTime, humanize } from "../format";
import { Link, navigate, useLocation } from "../router";
import { DEAL_STATUSES, type Broker, type Deal, type DealStatus, type LeadDetail, type LeadSummary, type Page } from "../types";
import "./pages.css";

const RATE = /^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$/;

/** A rate ("0.025") as a percentage ("2.5%"), by moving the decimal point: no float rounding. */
export function percent(rate: string): string {
  const [whole = "0", fraction = ""] = rate.split(".");
  const padded = `${fraction}00`;
  const integer = `${whole}${padded.slice(0, 2)}`.replace(/^0+(?=\d)/, "");
  const rest = padded.slice(2).replace(/0+$/, "");
  return rest ? `${integer}.${rest}%` : `${integer}%`;
}

const leadNames = new Map<string, Promise<string>>();

/** A lead's name, read once per page load (a deal carries only the lead's id). */
function LeadName({ leadId }: { leadId: string }) {
  const name = useResource(() => {
    let known = leadNames.get(leadId);
    if (!known) {
      known = getJson<LeadDetail>(`/api/leads/${leadId}`).then((lead) => lead.name || lead.username || "(no name)");
      known.catch(() => leadNames.delete(leadId));
      leadNames.set(leadId, known);
    }
    return known;
  }, [leadId]);
  return (
    <Link href={`/leads/${leadId}`}>
      <bdi>{name.data ?? (name.error ? `lead …${leadId.slice(-6)}` : "…")}</bdi>
    </Link>
  );
}

export function Deals() {
  const { search } = useLocation();
  const params = new URLSearchParams(search);
  const leadId = params.get("lead");
  const [filters, setFilters] = useState({ status: "", month: "" });
  const deals = useResource(
    () => getJson<Page<Deal>>("/api/deals", { ...filters, limit: 100 }),
    [filters.status, filters.month],
  );
  const brokers = useResource(() => getJson<Page<Broker>>("/api/brokers", { limit: 100 }), []);
  const [recorded, setRecorded] = useState<Deal | null>(null);
  const brokerName = (id: string | null) =>
    id ? (brokers.data?.items.find((b) => b.broker_id === id)?.name ?? `…${id.slice(-6)}`) : "—";

  return (
    <section aria-labelledby="deals-title">
      <h1 id="deals-title">Deals</h1>
      <NewDeal
        key={leadId ?? ""}
        leadId={leadId}
        brokers={brokers.data?.items ?? []}
        onRecorded={(deal) => {
          setRecorded(deal);
          void deals.reload();
        }}
      />
      {recorded && (
        <div class="panel recorded" role="status" aria-labelledby="recorded-title">
          <h2 id="recorded-title">Deal recorded</h2>
          <DealFigures deal={recorded} />
        </div>
      )}
      <form class="filters" aria-label="Filter deals" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select name="status" value={filters.status} onChange={(e) => setFilters({ ...filters, status: e.currentTarget.value })}>
            <option value="">All</option>
            {DEAL_STATUSES.map((s) => (
              <option value={s}>{humanize(s)}</option>
            ))}
          </select>
        </label>
        <label>
          Created in (month)
          <input type="month" name="month" value={filters.month} onChange={(e) => setFilters({ ...filters, month: e.currentTarget.value })} />
        </label>
      </form>
      {deals.error !== null ? (
        <ErrorBox error={deals.error} retry={() => void deals.reload()} />
      ) : !deals.data ? (
        <Loading what="deals" />
      ) : deals.data.items.length === 0 ? (
        <p class="empty">No deals match these filters.</p>
      ) : (
        <table class="data deals">
          <caption class="visually-hidden">Deals, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Lead</th>
              <th scope="col">Broker</th>
              <th scope="col">Value</th>
              <th scope="col">Broker commission</th>
              <th scope="col">Platform commission</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {deals.data.items.map((deal) => (
              <tr key={deal.deal_id} data-deal-id={deal.deal_id}>
                <td data-label="Created">{formatTime(deal.created_at)}</td>
                <td data-label="Lead" class="name">
                  <LeadName leadId={deal.lead_id} />
                </td>
                <td data-label="Broker">{brokerName(deal.broker_id)}</td>
                <td data-label="Value" class="money">
                  {formatAmount(deal.value)} {deal.currency}
                </td>
                <td data-label="Broker commission" class="money broker-commission">
                  <span>
                    {formatAmount(deal.broker_commission)} {deal.currency} <small>({percent(deal.broker_commission_rate)})</small>
                  </span>
                </td>
                <td data-label="Platform commission" class="money platform-commission">
                  <span>
                    {formatAmount(deal.platform_commission)} {deal.currency}{" "}
                    <small>({percent(deal.platform_commission_rate)} of the broker's)</small>
                  </span>
                </td>
                <td data-label="Status">
                  <StatusChange deal={deal} onChanged={() => void deals.reload()} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deals.data?.next_cursor && <p class="meta">Showing the newest 100 deals.</p>}
    </section>
  );
}

function DealFigures({ deal }: { deal: Deal }) {
  return (
    <dl class="facts deal-figures">
      <div>
        <dt>Value</dt>
        <dd data-figure="value">
          {formatAmount(deal.value)} {deal.currency}
        </dd>
      </div>
      <div>
        <dt>Broker commission ({percent(deal.broker_commission_rate)})</dt>
        <dd data-figure="broker_commission">
          {formatAmount(deal.broker_commission)} {deal.currency}
        </dd>
      </div>
      <div>
        <dt>Platform commission ({percent(deal.platform_commission_rate)} of the broker's)</dt>
        <dd data-figure="platform_commission">
          {formatAmount(deal.platform_commission)} {deal.currency}
        </dd>
      </div>
      <div>
        <dt>Lead</dt>
        <dd>
          <LeadName leadId={deal.lead_id} />
        </dd>
      </div>
    </dl>
  );
}

function StatusChange({ deal, onChanged }: { deal: Deal; onChanged: () => void }) {
  const [status, setStatus] = useState<DealStatus>(deal.status);
  const change = useAction(async () => {
    await patchJson<Deal>(`/api/deals/${deal.deal_id}`, { status });
    onChanged();
  });
  const id = `deal-status-${deal.deal_id}`;
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        void change.run();
      }}
    >
      <label for={id} class="visually-hidden">
        Status of the deal
      </label>
      <select id={id} value={status} onChange={(e) => setStatus(e.currentTarget.value as DealStatus)} data-status={deal.status}>
        {DEAL_STATUSES.map((s) => (
          <option value={s}>{humanize(s)}</option>
        ))}
      </select>
      <button type="submit" class="secondary" disabled={change.busy || status === deal.status}>
        {change.busy ? "Saving…" : "Update"}
      </button>
      {change.error !== null && <ErrorBox error={change.error} />}
    </form>
  );
}

function NewDeal({ leadId, brokers, onRecorded }: { leadId: string | null; brokers: Broker[]; onRecorded: (deal: Deal) => void }) {
  const chosen = useResource(() => (leadId ? getJson<LeadDetail>(`/api/leads/${leadId}`) : Promise.resolve(null)), [leadId]);
  const [query, setQuery] = useState("");
  const found = useResource(
    () => (query.trim().length >= 2 ? getJson<Page<LeadSummary>>("/api/leads", { q: query.trim(), limit: 10 }) : Promise.resolve(null)),
    [query],
  );
  const [draft, setDraft] = useState({ value: "", currency: "", broker_id: "", rate: "" });
  const lead = chosen.data;
  const [brokerTouched, setBrokerTouched] = useState(false);
  const brokerId = brokerTouched ? draft.broker_id : draft.broker_id || lead?.broker_id || "";
  const record = useAction(async () => {
    if (!lead) throw new Error("choose the lead the deal is with");
    if (draft.rate.trim() && !RATE.test(draft.rate.trim())) {
      throw new Error("broker commission rate: a fraction from 0 to 1, such as 0.02 for 2%");
    }
    const body: Record<string, unknown> = { lead_id: lead.lead_id, value: draft.value.trim() };
    if (draft.currency.trim()) body["currency"] = draft.currency.trim().toUpperCase();
    if (brokerId) body["broker_id"] = brokerId;
    if (draft.rate.trim()) body["broker_commission_rate"] = draft.rate.trim();
    onRecorded(await postJson<Deal>("/api/deals", body));
    setDraft({ value: "", currency: "", broker_id: "", rate: "" });
  });
  const field = (name: keyof typeof draft) => ({
    name,
    value: draft[name],
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value }),
  });

  return (
    <form
      class="panel edit-form"
      aria-labelledby="new-deal"
      onSubmit={(event) => {
        event.preventDefault();
        void record.run();
      }}
    >
      <h2 id="new-deal">Record a deal</h2>
      {leadId ? (
        chosen.error !== null ? (
          <ErrorBox error={chosen.error} retry={() => void chosen.reload()} />
        ) : !lead ? (
          <Loading what="the lead" />
        ) : (
          <p class="chosen-lead">
            With <Link href={`/leads/${lead.lead_id}`}><bdi>{lead.name || lead.username || "(no name)"}</bdi></Link>
            {lead.phone ? ` (${lead.phone})` : ""}.{" "}
            <button type="button" class="link-button" onClick={() => navigate("/deals")}>
              Choose another lead
            </button>
          </p>
        )
      ) : (
        <div class="form-grid">
          <label>
            Find the lead
            <input type="search" name="lead-search" placeholder="Name or phone" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          </label>
          <div class="lead-results" aria-live="polite">
            {found.error !== null ? (
              <ErrorBox error={found.error} retry={() => void found.reload()} />
            ) : found.loading && query.trim().length >= 2 ? (
              <Loading what="leads" />
            ) : found.data ? (
              found.data.items.length === 0 ? (
                <p class="empty">No lead matches.</p>
              ) : (
                <ul class="pick">
                  {found.data.items.map((l) => (
                    <li key={l.lead_id}>
                      <button type="button" class="secondary" onClick={() => navigate(`/deals?lead=${l.lead_id}`, true)}>
                        <bdi>{l.name || l.username || "(no name)"}</bdi>
                        {l.phone ? ` · ${l.phone}` : ""}
                      </button>
                    </li>
                  ))}
                </ul>
              )
            ) : (
              <p class="meta">Type two letters or digits of a name or phone, or open a lead and choose “Record a deal”.</p>
            )}
          </div>
        </div>
      )}
      <div class="form-grid">
        <label>
          Value
          <input required inputMode="decimal" pattern="[0-9]+(\.[0-9]{1,6})?" placeholder="2450000" {...field("value")} />
        </label>
        <label>
          Currency
          <input maxLength={3} placeholder="the agency's" autocomplete="off" {...field("currency")} />
        </label>
        <label>
          Broker
          <select
            name="broker_id"
            value={brokerId}
            onChange={(e) => {
              setBrokerTouched(true);
              setDraft({ ...draft, broker_id: e.currentTarget.value });
            }}
          >
            <option value="">None</option>
            {brokers
              .filter((b) => b.active || b.broker_id === brokerId)
              .map((b) => (
                <option value={b.broker_id}>{b.name}</option>
              ))}
          </select>
        </label>
        <div class="field">
          <label>
            Broker commission rate
            <input inputMode="decimal" placeholder="the agency's, e.g. 0.02" aria-describedby="rate-help" {...field("rate")} />
          </label>
          <small id="rate-help" class="meta">
            {draft.rate.trim() && RATE.test(draft.rate.trim())
              ? `${percent(draft.rate.trim())} of the value`
              : "A fraction of the value (0.02 is 2%); the platform's share of it is the agency's setting."}
          </small>
        </div>
      </div>
      {record.error !== null && <ErrorBox error={record.error} />}
      <div class="actions">
        <button type="submit" disabled={record.busy || !lead}>
          {record.busy ? "Recording…" : "Record deal"}
        </button>
      </div>
    </form>
  );
}
