// The leads board: hottest first, filters and search in the URL, live refresh, CSV/XLSX export.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, download, getJson, type Query } from "../api";
import { ErrorBox, Loading, TemperatureBadge, usePolling } from "../components";
import type { SiteConfig } from "../config";
import { formatMoney, LANGUAGE_NAMES, statusLabel } from "../format";
import { Link, navigate, useLocation } from "../router";
import { LANGUAGES, STATUSES, TEMPERATURES, type LeadSummary, type Page } from "../types";

const PAGE_SIZE = 100;
const FILTERS = ["temperature", "status", "source", "language", "q"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

function readFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  return Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""])) as Filters;
}

function filtersUrl(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) params.set(name, filters[name]);
  const qs = params.toString();
  return qs ? `/?${qs}` : "/";
}

interface BoardState {
  items: LeadSummary[];
  cursor: string | null;
  loading: boolean;
  error: unknown;
  refreshError: string | null;
  refreshedAt: Date | null;
  fresh: Set<string>;
}

const EMPTY: BoardState = {
  items: [],
  cursor: null,
  loading: true,
  error: null,
  refreshError: null,
  refreshedAt: null,
  fresh: new Set(),
};

export function Board({ config }: { config: SiteConfig }) {
  const { search } = useLocation();
  const filters = readFilters(search);
  const query: Query = { ...filters, limit: PAGE_SIZE };
  const key = JSON.stringify(filters);
  const [state, setState] = useState<BoardState>(EMPTY);
  const [searchText, setSearchText] = useState(filters.q);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const sequence = useRef(0);
  const known = useRef<Set<string> | null>(null);
  // Pages past the first that the agent asked for; a refresh keeps them below the first.
  const more = useRef<{ items: LeadSummary[]; cursor: string | null } | null>(null);

  const refresh = async (silent: boolean) => {
    const mine = ++sequence.current;
    if (!silent) setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const page = await getJson<Page<LeadSummary>>("/api/leads", query);
      if (mine !== sequence.current) return;
      const ids = new Set(page.items.map((lead) => lead.lead_id));
      const fresh = known.current ? new Set([...ids].filter((id) => !known.current!.has(id))) : new Set<string>();
      known.current = new Set([...(known.current ?? []), ...ids]);
      const extra = more.current ? more.current.items.filter((lead) => !ids.has(lead.lead_id)) : [];
      setState({
        items: [...page.items, ...extra],
        cursor: more.current ? more.current.cursor : page.next_cursor,
        loading: false,
        error: null,
        refreshError: null,
        refreshedAt: new Date(),
        fresh,
      });
    } catch (caught) {
      if (mine !== sequence.current) return;
      if (silent) {
        const message = caught instanceof Error ? caught.message : String(caught);
        setState((s) => ({ ...s, refreshError: message }));
      } else {
        setState((s) => ({ ...s, loading: false, error: caught }));
      }
    }
  };

  useEffect(() => {
    known.current = null;
    more.current = null;
    setState(EMPTY);
    setSearchText(filters.q);
    void refresh(false);
  }, [key]);

  usePolling(() => {
    if (!state.loading && !loadingMore) void refresh(true);
  }, config.poll_seconds);

  // Search as the agent types, once they pause.
  useEffect(() => {
    if (searchText === filters.q) return;
    const timer = window.setTimeout(() => setFilter("q", searchText.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [searchText]);

  function setFilter(name: keyof Filters, value: string) {
    navigate(filtersUrl({ ...filters, [name]: value }), true);
  }

  async function loadMore() {
    if (!state.cursor) return;
    setLoadingMore(true);
    try {
      const page = await getJson<Page<LeadSummary>>("/api/leads", { ...query, cursor: state.cursor });
      const shown = new Set(state.items.map((lead) => lead.lead_id));
      const items = page.items.filter((lead) => !shown.has(lead.lead_id));
      more.current = { items: [...(more.current?.items ?? []), ...items], cursor: page.next_cursor };
      for (const lead of items) known.current?.add(lead.lead_id);
      setState((s) => ({ ...s, items: [...s.items, ...items], cursor: page.next_cursor }));
    } catch (caught) {
      setState((s) => ({ ...s, refreshError: caught instanceof Error ? caught.message : String(caught) }));
    } finally {
      setLoadingMore(false);
    }
  }

  async function exportLeads(format: "csv" | "xlsx") {
    setExporting(format);
    setExportError(null);
    setExported(null);
    try {
      const { limit: _limit, ...filterQuery } = query;
      const name = await download("/api/leads/export", { ...filterQuery, format }, format === "xlsx" ? XLSX : undefined);
      setExported(name);
    } catch (caught) {
      setExportError(caught instanceof ApiError ? caught : new Error(String(caught)));
    } finally {
      setExporting(null);
    }
  }

  const sources = [...new Set(state.items.map((lead) => lead.source).filter((s): s is string => !!s))].sort();
  const freshCount = state.fresh.size;

  return (
    <section aria-labelledby="board-title">
      <div class="page-head">
        <h1 id="board-title">Leads</h1>
        <div class="actions">
          <button type="button" onClick={() => exportLeads("csv")} disabled={exporting !== null}>
            {exporting === "csv" ? "Exporting…" : "Export CSV"}
          </button>
          <button type="button" onClick={() => exportLeads("xlsx")} disabled={exporting !== null}>
            {exporting === "xlsx" ? "Exporting…" : "Export XLSX"}
          </button>
        </div>
      </div>
      {exportError !== null && <ErrorBox error={exportError} />}
      {exported && (
        <p class="note" role="status">
          Downloaded {exported}
        </p>
      )}
      <form class="filters" role="search" aria-label="Filter leads" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            name="q"
            placeholder="Name or phone"
            value={searchText}
            onInput={(e) => setSearchText(e.currentTarget.value)}
          />
        </label>
        <label>
          Temperature
          <select name="temperature" value={filters.temperature} onChange={(e) => setFilter("temperature", e.currentTarget.value)}>
            <option value="">All</option>
            {TEMPERATURES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status" value={filters.status} onChange={(e) => setFilter("status", e.currentTarget.value)}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option value={s}>{statusLabel(s)}</option>
            ))}
          </select>
        </label>
        <label>
          Source
          <input
            name="source"
            list="sources"
            value={filters.source}
            onChange={(e) => setFilter("source", e.currentTarget.value.trim())}
          />
          <datalist id="sources">
            {sources.map((s) => (
              <option value={s} />
            ))}
          </datalist>
        </label>
        <label>
          Language
          <select name="language" value={filters.language} onChange={(e) => setFilter("language", e.currentTarget.value)}>
            <option value="">All</option>
            {LANGUAGES.map((l) => (
              <option value={l}>{LANGUAGE_NAMES[l]}</option>
            ))}
          </select>
        </label>
      </form>
      <p class="live" role="status" aria-live="polite">
        {freshCount > 0 ? `${freshCount} new ${freshCount === 1 ? "lead" : "leads"}. ` : ""}
        {state.refreshedAt ? `Updated ${state.refreshedAt.toLocaleTimeString()}` : ""}
      </p>
      {state.refreshError && (
        <p class="warning" role="alert">
          Live refresh failed ({state.refreshError}); trying again.
        </p>
      )}
      {state.loading && state.items.length === 0 ? (
        <Loading what="leads" />
      ) : state.error ? (
        <ErrorBox error={state.error} retry={() => void refresh(false)} />
      ) : state.items.length === 0 ? (
        <p class="empty">No leads match these filters.</p>
      ) : (
        <LeadTable leads={state.items} fresh={state.fresh} />
      )}
      {state.cursor && !state.error && (
        <button type="button" class="more" onClick={loadMore} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}

function LeadTable({ leads, fresh }: { leads: LeadSummary[]; fresh: Set<string> }) {
  return (
    <table class="leads">
      <caption class="visually-hidden">Leads, hottest first</caption>
      <thead>
        <tr>
          <th scope="col">Temperature</th>
          <th scope="col">Score</th>
          <th scope="col">Name</th>
          <th scope="col">Phone</th>
          <th scope="col">Budget</th>
          <th scope="col">Area</th>
          <th scope="col">Language</th>
          <th scope="col">Source</th>
          <th scope="col">Engagement</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {leads.map((lead) => (
          <tr key={lead.lead_id} data-lead-id={lead.lead_id} class={fresh.has(lead.lead_id) ? "fresh" : undefined}>
            <td data-label="Temperature">
              <TemperatureBadge temperature={lead.temperature} />
            </td>
            <td data-label="Score" class="score">
              {lead.score ?? "—"}
            </td>
            <td data-label="Name" class="name">
              <Link href={`/leads/${lead.lead_id}`}>
                <bdi>{lead.name || lead.username || "(no name)"}</bdi>
              </Link>
            </td>
            <td data-label="Phone">{lead.phone ? <a href={`tel:${lead.phone}`}>{lead.phone}</a> : "—"}</td>
            <td data-label="Budget">{formatMoney(lead.budget)}</td>
            <td data-label="Area">
              <bdi>{lead.location ?? "—"}</bdi>
            </td>
            <td data-label="Language">{lead.language ? (LANGUAGE_NAMES[lead.language] ?? lead.language) : "—"}</td>
            <td data-label="Source">{lead.source ?? "—"}</td>
            <td data-label="Engagement" class="engagement">
              <span aria-hidden="true">
                <span title="QR scans">📷 {lead.engagement.qr_scans}</span>{" "}
                <span title="Catalog views">📖 {lead.engagement.catalog_views}</span>{" "}
                <span title="Messages">💬 {lead.engagement.messages}</span>{" "}
                <span title="Voice messages">🎙️ {lead.engagement.voice}</span>
              </span>
              <span class="visually-hidden">
                {`${lead.engagement.qr_scans} QR scans, ${lead.engagement.catalog_views} catalog views, ${lead.engagement.messages} messages, ${lead.engagement.voice} voice messages`}
              </span>
            </td>
            <td data-label="Status">{statusLabel(lead.status)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
