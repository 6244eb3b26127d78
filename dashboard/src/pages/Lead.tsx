// One lead: the conversation, why it scores as it does, and the agent's actions on it.
import { useEffect, useRef, useState } from "preact/hooks";
import { getJson, patchJson, postJson } from "../api";
import { ErrorBox, Loading, TemperatureBadge, usePolling, useResource } from "../components";
import type { SiteConfig } from "../config";
import { formatMoney, formatTime, humanize, LANGUAGE_NAMES, ruleLabel, RTL_LANGUAGES, statusLabel } from "../format";
import { Link } from "../router";
import {
  STATUSES,
  type Broker,
  type LeadDetail,
  type LeadStatus,
  type MessageSent,
  type Page,
  type TimelineItem,
} from "../types";

const TIMELINE_PAGE = 100;

export function LeadPage({ leadId, config }: { leadId: string; config: SiteConfig }) {
  const lead = useResource(() => getJson<LeadDetail>(`/api/leads/${leadId}`), [leadId]);
  const timeline = useResource(
    () => getJson<Page<TimelineItem>>(`/api/leads/${leadId}/timeline`, { limit: TIMELINE_PAGE }),
    [leadId],
  );
  const [earlier, setEarlier] = useState<{ items: TimelineItem[]; cursor: string | null } | null>(null);
  const [earlierError, setEarlierError] = useState<unknown>(null);

  usePolling(() => {
    if (!lead.loading) void lead.reload();
    if (!timeline.loading) void timeline.reload();
  }, config.poll_seconds);

  if (lead.error && !lead.data) {
    return (
      <section>
        <p>
          <Link href="/">← All leads</Link>
        </p>
        <ErrorBox error={lead.error} retry={() => void lead.reload()} />
      </section>
    );
  }
  if (!lead.data) return <Loading what="the lead" />;
  const data = lead.data;

  const changed = (updated: LeadDetail) => {
    lead.set(updated);
    void timeline.reload();
  };

  async function showEarlier() {
    const cursor = earlier ? earlier.cursor : timeline.data?.next_cursor;
    if (!cursor) return;
    setEarlierError(null);
    try {
      const page = await getJson<Page<TimelineItem>>(`/api/leads/${leadId}/timeline`, {
        limit: TIMELINE_PAGE,
        cursor,
      });
      setEarlier({ items: [...(earlier?.items ?? []), ...page.items], cursor: page.next_cursor });
    } catch (caught) {
      setEarlierError(caught);
    }
  }

  const newestFirst = [...(timeline.data?.items ?? []), ...(earlier?.items ?? [])];
  const moreCursor = earlier ? earlier.cursor : timeline.data?.next_cursor;

  return (
    <article aria-labelledby="lead-title" class="lead">
      <p>
        <Link href="/">← All leads</Link>
      </p>
      <header class="lead-head">
        <h1 id="lead-title">
          <bdi>{data.name || data.username || "(no name)"}</bdi>
        </h1>
        <TemperatureBadge temperature={data.temperature} />
        <span class="score-big" aria-label={`score ${data.score ?? "none"} of 100`}>
          {data.score ?? "—"}
          <small>/100</small>
        </span>
        <span class="status-pill" data-status={data.status}>
          {statusLabel(data.status)}
        </span>
      </header>
      {lead.error !== null && <p class="warning" role="alert">Refresh failed; showing what was loaded.</p>}
      <dl class="facts">
        <Fact name="Phone" value={data.phone ? <a href={`tel:${data.phone}`}>{data.phone}</a> : "—"} />
        <Fact name="Language" value={data.language ? (LANGUAGE_NAMES[data.language] ?? data.language) : "—"} />
        <Fact name="Channel" value={humanize(data.channel)} />
        <Fact name="Source" value={data.source ?? "—"} />
        <Fact name="Goal" value={humanize(data.goal)} />
        <Fact name="Budget" value={formatMoney(data.budget)} />
        <Fact name="Property" value={humanize(data.property_type)} />
        <Fact name="Area" value={<bdi>{data.location ?? "—"}</bdi>} />
        <Fact name="Timeline" value={humanize(data.timeline)} />
        <Fact name="Bedrooms" value={data.bedrooms ?? "—"} />
        <Fact name="Payment" value={humanize(data.payment_method)} />
        <Fact name="Last active" value={formatTime(data.last_interaction_at)} />
      </dl>
      {(data.opted_out || data.unreachable) && (
        <p class="warning">{data.opted_out ? "This lead opted out of messages." : "The lead cannot be reached (blocked the bot)."}</p>
      )}
      <div class="lead-grid">
        <section aria-labelledby="transcript-title" class="panel transcript-panel">
          <h2 id="transcript-title">Conversation</h2>
          {moreCursor && (
            <button type="button" class="link-button" onClick={showEarlier}>
              Show earlier
            </button>
          )}
          {earlierError !== null && <ErrorBox error={earlierError} retry={showEarlier} />}
          {timeline.error !== null && !timeline.data ? (
            <ErrorBox error={timeline.error} retry={() => void timeline.reload()} />
          ) : !timeline.data ? (
            <Loading what="the conversation" />
          ) : (
            <Transcript items={[...newestFirst].reverse()} language={data.language} />
          )}
          <Reply lead={data} onSent={changed} />
        </section>
        <div class="side">
          <WhyHot lead={data} />
          <Pipeline lead={data} onChange={changed} />
          <Assignment lead={data} onChange={changed} />
          <BotControl lead={data} onChange={changed} />
          <Notes lead={data} onChange={changed} />
          <p class="panel">
            <Link href={`/deals?lead=${data.lead_id}`}>Record a deal with this lead</Link>
          </p>
        </div>
      </div>
    </article>
  );
}

function Fact({ name, value }: { name: string; value: preact.ComponentChildren }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function Transcript({ items, language }: { items: TimelineItem[]; language: string | null }) {
  if (items.length === 0) return <p class="empty">No messages yet.</p>;
  // The lead's language names the text the bot and the lead exchanged; dir="auto" still
  // decides each message by its own first strong letter (a phone number, a Latin name).
  const lang = language ?? undefined;
  const list = useRef<HTMLOListElement>(null);
  const newest = items[items.length - 1]?.at;
  // Follow new messages as they arrive, unless the agent scrolled up to read older ones.
  const following = useRef(true);
  useEffect(() => {
    const element = list.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [newest]);
  const onScroll = () => {
    const element = list.current;
    if (element) following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
  };
  return (
    <ol class="transcript" aria-label="Messages and events, oldest first" ref={list} onScroll={onScroll} tabIndex={0}>
      {items.map((item, index) =>
        item.kind === "event" ? (
          <li key={index} class="event">
            <EventLine item={item} /> <time dateTime={item.at}>{formatTime(item.at)}</time>
          </li>
        ) : (
          <li key={index} class={`message ${item.kind}`} data-kind={item.kind}>
            <span class="who">{item.kind === "inbound" ? "Lead" : item.detail["by"] ? `Agent ${item.detail["by"]}` : "Bot"}</span>
            {item.detail["kind"] === "voice" && <span class="voice">🎙️ Voice note{item.detail["transcript"] === "true" ? " (transcript)" : ""}</span>}
            {item.text ? (
              <p class="text" dir="auto" lang={lang}>
                {item.text}
              </p>
            ) : (
              <p class="text action">{whatWasDone(item)}</p>
            )}
            {item.detail["image"] && (
              <a href={item.detail["image"]} class="photo" target="_blank" rel="noreferrer">
                Photo sent
              </a>
            )}
            <span class="meta">
              <time dateTime={item.at}>{formatTime(item.at)}</time>
              {item.status && item.kind === "outbound" ? ` · ${item.status}` : ""}
              {item.channel ? ` · ${item.channel}` : ""}
            </span>
          </li>
        ),
      )}
    </ol>
  );
}

/** A message without text: a button the lead pressed, a contact it shared. */
function whatWasDone(item: TimelineItem): string {
  const d = item.detail;
  if (d["contact_phone"]) return `Shared a contact: ${d["contact_phone"]}`;
  if (d["payload"]) return `Pressed a button: ${d["payload"]}`;
  return d["kind"] ? `(${humanize(d["kind"])})` : "(no text)";
}

function EventLine({ item }: { item: TimelineItem }) {
  const d = item.detail;
  const by = d["by"] ? ` by ${d["by"]}` : "";
  switch (item.text) {
    case "status_changed":
      return <span>{`Status ${humanize(d["from"])} → ${humanize(d["to"])}${by}`}{d["lost_reason"] ? `: ${d["lost_reason"]}` : ""}</span>;
    case "note":
      return (
        <span>
          {`Note${by}: `}
          <bdi dir="auto">{d["note"]}</bdi>
        </span>
      );
    case "broker_assigned":
      return <span>{`Assigned to ${d["broker"] ?? d["broker_id"]}${by}`}</span>;
    case "broker_unassigned":
      return <span>{`Broker unassigned${by}`}</span>;
    case "bot_paused":
      return <span>{`Bot paused${by}`}</span>;
    case "bot_resumed":
      return <span>{`Bot resumed${by}`}</span>;
    case "temperature_changed":
      return <span>{`Temperature ${d["from"] ? `${d["from"]} → ` : ""}${d["to"]} (score ${d["score"]})`}</span>;
    default:
      return <span>{humanize(item.text)}</span>;
  }
}

const PARTS = [
  { part: "engagement", label: "Engagement", max: 40 },
  { part: "qualification", label: "Qualification", max: 40 },
  { part: "recency", label: "Recency", max: 20 },
] as const;

function WhyHot({ lead }: { lead: LeadDetail }) {
  const breakdown = lead.score_breakdown ?? {};
  const rules = breakdown.rules ?? [];
  return (
    <section aria-labelledby="why-title" class="panel">
      <h2 id="why-title">Why {lead.temperature ?? "this score"}</h2>
      {lead.score === null ? (
        <p class="empty">Not scored yet.</p>
      ) : (
        <>
          <ul class="parts">
            {PARTS.map(({ part, label, max }) => {
              const points = breakdown[part] ?? 0;
              return (
                <li key={part}>
                  <span>{label}</span>
                  <meter min={0} max={max} value={points} aria-label={`${label} ${points} of ${max}`} />
                  <span class="points">
                    {points}/{max}
                  </span>
                </li>
              );
            })}
          </ul>
          <ul class="rules">
            {rules.map((rule) => (
              <li key={`${rule.part}-${rule.rule}`}>
                {ruleLabel(rule)} <strong>+{rule.points}</strong>
              </li>
            ))}
          </ul>
          <p class="meta">Scored {formatTime(lead.scored_at)}</p>
        </>
      )}
    </section>
  );
}

/** Busy, error and done state of one action on the lead. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  async function run(work: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await work());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  const feedback = (
    <>
      {error !== null && <ErrorBox error={error} />}
      {done && (
        <p class="done" role="status">
          {done}
        </p>
      )}
    </>
  );
  return { busy, run, feedback };
}

function Pipeline({ lead, onChange }: { lead: LeadDetail; onChange: (lead: LeadDetail) => void }) {
  const [target, setTarget] = useState<LeadStatus>(lead.status);
  const [reason, setReason] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = target === "lost" ? { status: target, lost_reason: reason.trim() } : { status: target };
      onChange(await patchJson<LeadDetail>(`/api/leads/${lead.lead_id}`, body));
      return `Status is now ${statusLabel(target)}.`;
    });
  };
  const current = STATUSES.indexOf(lead.status);
  return (
    <section aria-labelledby="pipeline-title" class="panel">
      <h2 id="pipeline-title">Pipeline</h2>
      <ol class="pipeline">
        {STATUSES.filter((s) => s !== "lost").map((status, index) => (
          <li
            key={status}
            class={status === lead.status ? "current" : index < current && lead.status !== "lost" ? "past" : undefined}
            aria-current={status === lead.status ? "step" : undefined}
          >
            {statusLabel(status)}
          </li>
        ))}
      </ol>
      <form onSubmit={submit}>
        <label>
          Move to
          <select name="status" value={target} onChange={(e) => setTarget(e.currentTarget.value as LeadStatus)}>
            {STATUSES.map((status) => (
              <option value={status}>{statusLabel(status)}</option>
            ))}
          </select>
        </label>
        {target === "lost" && (
          <label>
            Why lost
            <input name="lost_reason" required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
        )}
        <button type="submit" disabled={action.busy || target === lead.status}>
          {action.busy ? "Saving…" : "Update status"}
        </button>
      </form>
      {action.feedback}
    </section>
  );
}

function Assignment({ lead, onChange }: { lead: LeadDetail; onChange: (lead: LeadDetail) => void }) {
  const brokers = useResource(() => getJson<Page<Broker>>("/api/brokers", { limit: 100 }), []);
  const [choice, setChoice] = useState("");
  const action = useAction();
  const active = (brokers.data?.items ?? []).filter((b) => b.active);
  const assigned = (brokers.data?.items ?? []).find((b) => b.broker_id === lead.broker_id);
  const assign = (brokerId: string | null) =>
    void action.run(async () => {
      onChange(await patchJson<LeadDetail>(`/api/leads/${lead.lead_id}`, { broker_id: brokerId }));
      const name = active.find((b) => b.broker_id === brokerId)?.name;
      return brokerId ? `Assigned to ${name ?? brokerId}.` : "Broker unassigned.";
    });
  return (
    <section aria-labelledby="broker-title" class="panel">
      <h2 id="broker-title">Broker</h2>
      <p>
        {lead.broker_id ? (
          <>
            Assigned to <strong class="assigned-broker">{assigned?.name ?? lead.broker_id}</strong>
          </>
        ) : (
          "No broker assigned."
        )}
      </p>
      {brokers.error !== null ? (
        <ErrorBox error={brokers.error} retry={() => void brokers.reload()} />
      ) : !brokers.data ? (
        <Loading what="brokers" />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (choice) assign(choice);
          }}
        >
          <label>
            Assign to
            <select name="broker" value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
              <option value="">Choose a broker</option>
              {active.map((b) => (
                <option value={b.broker_id}>
                  {b.name}
                  {b.away ? " (away)" : ""}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={action.busy || !choice || choice === lead.broker_id}>
            Assign
          </button>
          {lead.broker_id && (
            <button type="button" class="secondary" disabled={action.busy} onClick={() => assign(null)}>
              Unassign
            </button>
          )}
        </form>
      )}
      {action.feedback}
    </section>
  );
}

function BotControl({ lead, onChange }: { lead: LeadDetail; onChange: (lead: LeadDetail) => void }) {
  const action = useAction();
  const toggle = () =>
    void action.run(async () => {
      const updated = await patchJson<LeadDetail>(`/api/leads/${lead.lead_id}`, { bot_paused: !lead.bot_paused });
      onChange(updated);
      return updated.bot_paused ? "The bot is paused: you have the conversation." : "The bot answers again.";
    });
  return (
    <section aria-labelledby="bot-title" class="panel">
      <h2 id="bot-title">Bot</h2>
      <p>{lead.bot_paused ? "Paused: an agent has taken over." : "The bot is answering this lead."}</p>
      <button type="button" onClick={toggle} disabled={action.busy} aria-pressed={lead.bot_paused}>
        {lead.bot_paused ? "Hand back to the bot" : "Pause bot (take over)"}
      </button>
      {action.feedback}
    </section>
  );
}

function Notes({ lead, onChange }: { lead: LeadDetail; onChange: (lead: LeadDetail) => void }) {
  const [text, setText] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const note = text.trim();
    if (!note) return;
    void action.run(async () => {
      onChange(await patchJson<LeadDetail>(`/api/leads/${lead.lead_id}`, { note }));
      setText("");
      return "Note added to the conversation.";
    });
  };
  return (
    <section aria-labelledby="notes-title" class="panel">
      <h2 id="notes-title">Notes</h2>
      <form onSubmit={submit}>
        <label>
          New note
          <textarea name="note" dir="auto" rows={3} maxLength={4000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={action.busy || !text.trim()}>
          Add note
        </button>
      </form>
      {action.feedback}
    </section>
  );
}

function Reply({ lead, onSent }: { lead: LeadDetail; onSent: (lead: LeadDetail) => void }) {
  const [text, setText] = useState("");
  const action = useAction();
  const manual = lead.channel === "manual";
  const submit = (event: Event) => {
    event.preventDefault();
    const message = text.trim();
    if (!message) return;
    void action.run(async () => {
      const sent = await postJson<MessageSent>(`/api/leads/${lead.lead_id}/messages`, { text: message });
      onSent(await getJson<LeadDetail>(`/api/leads/${lead.lead_id}`));
      if (sent.status !== "sent") throw new Error(`The message was not delivered (${sent.status}).`);
      setText("");
      return "Sent. The bot is paused while you talk to the lead.";
    });
  };
  return (
    <form class="reply" onSubmit={submit}>
      <label>
        Reply to the lead{manual ? " (no chat with the bot yet)" : ""}
        <textarea
          name="reply"
          dir={lead.language && RTL_LANGUAGES.has(lead.language) ? "rtl" : "auto"}
          rows={3}
          maxLength={4096}
          value={text}
          disabled={manual || lead.opted_out}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={action.busy || manual || lead.opted_out || !text.trim()}>
        {action.busy ? "Sending…" : "Send"}
      </button>
      {action.feedback}
    </form>
  );
}
