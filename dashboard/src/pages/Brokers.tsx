// Brokers: everyone sees them; admins add one, mark one away or back, deactivate or reactivate.
import { useState } from "preact/hooks";
import { deleteJson, getJson, patchJson, postJson } from "../api";
import type { Session } from "../auth";
import { ErrorBox, Loading, useAction, useResource } from "../components";
import type { BrokerFull, Page } from "../types";
import "./pages.css";

export function Brokers({ session }: { session: Session }) {
  const isAdmin = session.claims.role === "admin";
  const brokers = useResource(() => getJson<Page<BrokerFull>>("/api/brokers", { limit: 100 }), []);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const change = useAction(async (broker: BrokerFull, what: "away" | "back" | "deactivate" | "reactivate") => {
    if (what === "deactivate") await deleteJson<BrokerFull>(`/api/brokers/${broker.broker_id}`);
    else if (what === "reactivate") await patchJson<BrokerFull>(`/api/brokers/${broker.broker_id}`, { active: true });
    else await patchJson<BrokerFull>(`/api/brokers/${broker.broker_id}`, { away: what === "away" });
    const done = { away: "is away", back: "is back", deactivate: "was deactivated", reactivate: "is active again" }[what];
    setNotice(`${broker.name} ${done}.`);
    await brokers.reload();
  });
  const items = brokers.data?.items ?? [];

  return (
    <section aria-labelledby="brokers-title">
      <div class="page-head">
        <h1 id="brokers-title">Brokers</h1>
        {isAdmin && !adding && (
          <button type="button" onClick={() => { setNotice(null); setAdding(true); }}>
            Add a broker
          </button>
        )}
      </div>
      {notice && (
        <p class="note" role="status">
          {notice}
        </p>
      )}
      {adding && (
        <NewBroker
          onCancel={() => setAdding(false)}
          onAdded={(broker) => {
            setAdding(false);
            setNotice(`Added ${broker.name}.`);
            void brokers.reload();
          }}
        />
      )}
      {change.error !== null && <ErrorBox error={change.error} />}
      {brokers.error !== null ? (
        <ErrorBox error={brokers.error} retry={() => void brokers.reload()} />
      ) : !brokers.data ? (
        <Loading what="brokers" />
      ) : items.length === 0 ? (
        <p class="empty">No brokers yet.</p>
      ) : (
        <table class="data brokers">
          <caption class="visually-hidden">Brokers, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Phone</th>
              <th scope="col">Email</th>
              <th scope="col">Telegram chat</th>
              <th scope="col">Open leads cap</th>
              <th scope="col">State</th>
              {isAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((broker) => (
              <tr key={broker.broker_id} data-broker-id={broker.broker_id} class={broker.active ? undefined : "inactive"}>
                <td data-label="Name" class="name">
                  <bdi>{broker.name}</bdi>
                </td>
                <td data-label="Phone">
                  <a href={`tel:${broker.phone}`}>{broker.phone}</a>
                </td>
                <td data-label="Email">
                  <a href={`mailto:${broker.email}`}>{broker.email}</a>
                </td>
                <td data-label="Telegram chat">{broker.telegram_chat_id ?? "—"}</td>
                <td data-label="Open leads cap">{broker.max_open_leads ?? "none"}</td>
                <td data-label="State" class="state">
                  {!broker.active ? "Inactive" : broker.away ? "Away" : "Available"}
                </td>
                {isAdmin && (
                  <td data-label="Actions">
<div class="row-actions">
                    {broker.active && (
                      <button type="button" class="secondary" disabled={change.busy} onClick={() => void change.run(broker, broker.away ? "back" : "away")}>
                        {broker.away ? "Mark back" : "Mark away"} <span class="visually-hidden">{broker.name}</span>
                      </button>
                    )}
                    {broker.active ? (
                      <button type="button" class="secondary danger" disabled={change.busy} onClick={() => void change.run(broker, "deactivate")}>
                        Deactivate <span class="visually-hidden">{broker.name}</span>
                      </button>
                    ) : (
                      <button type="button" class="secondary" disabled={change.busy} onClick={() => void change.run(broker, "reactivate")}>
                        Reactivate <span class="visually-hidden">{broker.name}</span>
                      </button>
                    )}
                  </div>
</td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="meta">Inactive brokers get no new deals; their past deals keep them. Away brokers are skipped when the bot hands a lead to a broker.</p>
    </section>
  );
}

function NewBroker({ onAdded, onCancel }: { onAdded: (broker: BrokerFull) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState({ name: "", phone: "", email: "", telegram_chat_id: "", max_open_leads: "" });
  const add = useAction(async () => {
    const body: Record<string, unknown> = { name: draft.name.trim(), phone: draft.phone.trim(), email: draft.email.trim() };
    if (draft.telegram_chat_id.trim()) body["telegram_chat_id"] = draft.telegram_chat_id.trim();
    if (draft.max_open_leads.trim()) body["max_open_leads"] = Number(draft.max_open_leads);
    onAdded(await postJson<BrokerFull>("/api/brokers", body));
  });
  const field = (name: keyof typeof draft) => ({
    name,
    value: draft[name],
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value }),
  });
  return (
    <form
      class="panel edit-form"
      aria-labelledby="new-broker"
      onSubmit={(event) => {
        event.preventDefault();
        void add.run();
      }}
    >
      <h2 id="new-broker">New broker</h2>
      <div class="form-grid">
        <label>
          Name
          <input required maxLength={200} autocomplete="off" {...field("name")} />
        </label>
        <label>
          Phone
          <input required type="tel" maxLength={40} placeholder="+971 50 123 4567" {...field("phone")} />
        </label>
        <label>
          Email
          <input required type="email" maxLength={254} {...field("email")} />
        </label>
        <label>
          Telegram chat id (optional)
          <input inputMode="numeric" pattern="-?[0-9]{1,20}" {...field("telegram_chat_id")} />
        </label>
        <label>
          Open leads cap (optional)
          <input type="number" min={0} max={100000} {...field("max_open_leads")} />
        </label>
      </div>
      {add.error !== null && <ErrorBox error={add.error} />}
      <div class="actions">
        <button type="submit" disabled={add.busy}>
          {add.busy ? "Adding…" : "Add broker"}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
