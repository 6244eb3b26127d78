// Listings: list and filter; admins add, edit (optimistic version), archive and upload brochures.
import { useState } from "preact/hooks";
import { ApiError, deleteJson, getJson, patchJson, postJson, uploadFile } from "../api";
import type { Session } from "../auth";
import { ErrorBox, Loading, useAction, usePolling, useResource } from "../components";
import { formatMoney, formatTime, humanize } from "../format";
import {
  BEDROOMS,
  PROPERTY_TYPES,
  TRANSACTIONS,
  type BrochureState,
  type BrochureUpload,
  type Page,
  type Property,
} from "../types";
import "./pages.css";

const MAX_BROCHURE_BYTES = 50 * 1024 * 1024;
// An upload is read in the background (seconds; a long brochure up to a few minutes): the panel
// asks again this often while a brochure waits.
const BROCHURE_POLL_SECONDS = 3;

interface Filters {
  status: string;
  property_type: string;
  transaction: string;
}

export function Listings({ session }: { session: Session }) {
  const isAdmin = session.claims.role === "admin";
  const [filters, setFilters] = useState<Filters>({ status: "active", property_type: "", transaction: "" });
  const listings = useResource(
    () => getJson<Page<Property>>("/api/properties", { ...filters, limit: 100 }),
    [filters.status, filters.property_type, filters.transaction],
  );
  // What the admin has open: a new listing, one to edit, or one's brochures.
  const [open, setOpen] = useState<{ mode: "new" } | { mode: "edit" | "brochures"; id: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const archive = useAction(async (listing: Property) => {
    const archived = await deleteJson<Property>(`/api/properties/${listing.property_id}`);
    setNotice(`Archived ${archived.title}.`);
    await listings.reload();
  });
  const restore = useAction(async (listing: Property) => {
    await patchJson<Property>(`/api/properties/${listing.property_id}`, { status: "active", version: listing.version });
    setNotice(`${listing.title} is active again.`);
    await listings.reload();
  });

  const set = (name: keyof Filters) => (event: Event) =>
    setFilters({ ...filters, [name]: (event.currentTarget as HTMLSelectElement).value });
  const items = listings.data?.items ?? [];
  const current = open && open.mode !== "new" ? items.find((l) => l.property_id === open.id) : undefined;
  const saved = async (listing: Property, verb: string) => {
    setOpen(null);
    setNotice(`${verb} ${listing.title}: ${listing.units_available} units available.`);
    await listings.reload();
  };

  return (
    <section aria-labelledby="listings-title">
      <div class="page-head">
        <h1 id="listings-title">Listings</h1>
        {isAdmin && (
          <button type="button" onClick={() => { setNotice(null); setOpen({ mode: "new" }); }}>
            Add a listing
          </button>
        )}
      </div>
      {notice && (
        <p class="note" role="status">
          {notice}
        </p>
      )}
      {open?.mode === "new" && (
        <ListingForm onSaved={(l) => saved(l, "Added")} onCancel={() => setOpen(null)} />
      )}
      {open?.mode === "edit" && current && (
        <ListingForm key={current.property_id} listing={current} onSaved={(l) => saved(l, "Saved")} onCancel={() => setOpen(null)} />
      )}
      {open?.mode === "brochures" && current && (
        <Brochures key={current.property_id} listing={current} onClose={() => setOpen(null)} onUploaded={() => void listings.reload()} />
      )}
      <form class="filters" aria-label="Filter listings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select name="status" value={filters.status} onChange={set("status")}>
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="archived">Archived</option>
          </select>
        </label>
        <label>
          Type
          <select name="property_type" value={filters.property_type} onChange={set("property_type")}>
            <option value="">All</option>
            {PROPERTY_TYPES.map((t) => (
              <option value={t}>{humanize(t)}</option>
            ))}
          </select>
        </label>
        <label>
          For
          <select name="transaction" value={filters.transaction} onChange={set("transaction")}>
            <option value="">Sale and rent</option>
            <option value="sale">Sale</option>
            <option value="rent">Rent</option>
          </select>
        </label>
      </form>
      {archive.error !== null && <ErrorBox error={archive.error} />}
      {restore.error !== null && <ErrorBox error={restore.error} />}
      {listings.error !== null ? (
        <ErrorBox error={listings.error} retry={() => void listings.reload()} />
      ) : !listings.data ? (
        <Loading what="listings" />
      ) : items.length === 0 ? (
        <p class="empty">No listings match these filters.</p>
      ) : (
        <table class="data listings">
          <caption class="visually-hidden">Listings, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Area</th>
              <th scope="col">Type</th>
              <th scope="col">Price</th>
              <th scope="col">Units available</th>
              <th scope="col">Status</th>
              <th scope="col">Brochures</th>
              {isAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((listing) => (
              <tr key={listing.property_id} data-property-id={listing.property_id}>
                <td data-label="Title" class="name">
                  <bdi>{listing.title}</bdi>
                </td>
                <td data-label="Area">
                  <bdi>{listing.location}</bdi>
                </td>
                <td data-label="Type">
                  <span>
                    {humanize(listing.property_type)}
                    {listing.bedrooms ? `, ${listing.bedrooms === "studio" ? "studio" : `${listing.bedrooms} bed`}` : ""} ·{" "}
                    {listing.transaction === "rent" ? "rent" : "sale"}
                  </span>
                </td>
                <td data-label="Price">
                  <span>
                    {formatMoney(listing.price)}
                    {listing.transaction === "rent" ? " / year" : ""}
                  </span>
                </td>
                <td data-label="Units available" class="units">
                  {listing.units_available}
                </td>
                <td data-label="Status">{humanize(listing.status)}</td>
                <td data-label="Brochures">{listing.brochure_ids.length}</td>
                {isAdmin && (
                  <td data-label="Actions">
<div class="row-actions">
                    <button type="button" class="secondary" onClick={() => { setNotice(null); setOpen({ mode: "edit", id: listing.property_id }); }}>
                      Edit <span class="visually-hidden">{listing.title}</span>
                    </button>
                    <button type="button" class="secondary" onClick={() => { setNotice(null); setOpen({ mode: "brochures", id: listing.property_id }); }}>
                      Brochures <span class="visually-hidden">of {listing.title}</span>
                    </button>
                    {listing.status === "active" ? (
                      <button type="button" class="secondary danger" disabled={archive.busy} onClick={() => void archive.run(listing)}>
                        Archive <span class="visually-hidden">{listing.title}</span>
                      </button>
                    ) : (
                      <button type="button" class="secondary" disabled={restore.busy} onClick={() => void restore.run(listing)}>
                        Restore <span class="visually-hidden">{listing.title}</span>
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
      {listings.data?.next_cursor && <p class="meta">Showing the newest 100 listings.</p>}
    </section>
  );
}

interface Draft {
  title: string;
  location: string;
  property_type: string;
  transaction: string;
  bedrooms: string;
  amount: string;
  currency: string;
  size_sqft: string;
  units_available: string;
  description: string;
  image_url: string;
}

function draftOf(listing?: Property): Draft {
  return {
    title: listing?.title ?? "",
    location: listing?.location ?? "",
    property_type: listing?.property_type ?? "apartment",
    transaction: listing?.transaction ?? "sale",
    bedrooms: listing?.bedrooms ?? "",
    amount: listing?.price.amount ?? "",
    currency: listing?.price.currency ?? "",
    size_sqft: listing?.size_sqft ?? "",
    units_available: listing ? String(listing.units_available) : "",
    description: listing?.description ?? "",
    image_url: listing?.image_url ?? "",
  };
}

/** The request body: a new listing whole; an edit only what changed, with the version read. */
function bodyOf(draft: Draft, listing?: Property): Record<string, unknown> {
  const orNull = (text: string) => (text.trim() === "" ? null : text.trim());
  const units = /^\d+$/.test(draft.units_available.trim()) ? Number(draft.units_available) : draft.units_available;
  const full: Record<string, unknown> = {
    title: draft.title.trim(),
    location: draft.location.trim(),
    property_type: draft.property_type,
    transaction: draft.transaction,
    bedrooms: orNull(draft.bedrooms),
    price: { amount: draft.amount.trim(), ...(draft.currency.trim() ? { currency: draft.currency.trim().toUpperCase() } : {}) },
    size_sqft: orNull(draft.size_sqft),
    units_available: units,
    description: draft.description,
    image_url: orNull(draft.image_url),
  };
  if (!listing) {
    for (const name of ["bedrooms", "size_sqft", "image_url"]) if (full[name] === null) delete full[name];
    return full;
  }
  const before = bodyOf(draftOf(listing));
  const changed: Record<string, unknown> = { version: listing.version };
  for (const [name, value] of Object.entries(full)) {
    if (JSON.stringify(value) !== JSON.stringify(before[name])) changed[name] = value;
  }
  return changed;
}

function ListingForm({
  listing,
  onSaved,
  onCancel,
}: {
  listing?: Property;
  onSaved: (listing: Property) => void;
  onCancel: () => void;
}) {
  // The version the admin is editing: after a 409 they may load the latest and edit that.
  const [base, setBase] = useState<Property | undefined>(listing);
  const [draft, setDraft] = useState<Draft>(() => draftOf(listing));
  const save = useAction(async () => {
    const body = bodyOf(draft, base);
    const result = base
      ? await patchJson<Property>(`/api/properties/${base.property_id}`, body)
      : await postJson<Property>("/api/properties", body);
    onSaved(result);
  });
  const reload = useAction(async () => {
    if (!base) return;
    const latest = await getJson<Property>(`/api/properties/${base.property_id}`);
    setBase(latest);
    setDraft(draftOf(latest));
    save.clear();
  });
  const conflict = save.error instanceof ApiError && save.error.status === 409;
  const field = (name: keyof Draft) => ({
    name,
    value: draft[name],
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value }),
  });
  const titleId = base ? `edit-${base.property_id}` : "new-listing";

  return (
    <form
      class="panel edit-form"
      aria-labelledby={titleId}
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h2 id={titleId}>{base ? `Edit ${base.title}` : "New listing"}</h2>
      <div class="form-grid">
        <label>
          Title
          <input required maxLength={200} {...field("title")} />
        </label>
        <label>
          Area
          <input required maxLength={200} {...field("location")} />
        </label>
        <label>
          Type
          <select {...field("property_type")} onChange={field("property_type").onInput}>
            {PROPERTY_TYPES.map((t) => (
              <option value={t}>{humanize(t)}</option>
            ))}
          </select>
        </label>
        <label>
          For
          <select {...field("transaction")} onChange={field("transaction").onInput}>
            {TRANSACTIONS.map((t) => (
              <option value={t}>{humanize(t)}</option>
            ))}
          </select>
        </label>
        <label>
          Bedrooms
          <select {...field("bedrooms")} onChange={field("bedrooms").onInput}>
            <option value="">Not given</option>
            {BEDROOMS.map((b) => (
              <option value={b}>{b}</option>
            ))}
          </select>
        </label>
        <label>
          Price{draft.transaction === "rent" ? " per year" : ""}
          <input required inputMode="decimal" pattern="[0-9]+(\.[0-9]{1,6})?" placeholder="2450000" {...field("amount")} />
        </label>
        <label>
          Currency
          <input maxLength={3} placeholder="the agency's" autocomplete="off" {...field("currency")} />
        </label>
        <label>
          Size (sq.ft)
          <input inputMode="decimal" {...field("size_sqft")} />
        </label>
        <label>
          Units available
          <input required type="number" min={0} max={100000} step={1} {...field("units_available")} />
        </label>
        <label class="wide">
          Photo URL (https)
          <input type="url" maxLength={1024} {...field("image_url")} />
        </label>
        <label class="wide">
          Description
          <textarea rows={3} maxLength={4000} {...field("description")} />
        </label>
      </div>
      {conflict ? (
        <div class="error conflict" role="alert">
          <p>
            <strong>Not saved: someone changed this listing after you opened it.</strong> Load the latest version, check
            it, and make your change again.
          </p>
          <button type="button" onClick={() => void reload.run()} disabled={reload.busy}>
            {reload.busy ? "Loading…" : "Load the latest version"}
          </button>
        </div>
      ) : (
        save.error !== null && <ErrorBox error={save.error} />
      )}
      {reload.error !== null && <ErrorBox error={reload.error} />}
      {base && <p class="meta">Version {base.version}, last changed {formatTime(base.updated_at)}</p>}
      <div class="actions">
        <button type="submit" disabled={save.busy}>
          {save.busy ? "Saving…" : base ? "Save changes" : "Add listing"}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Brochures({ listing, onClose, onUploaded }: { listing: Property; onClose: () => void; onUploaded: () => void }) {
  const states = useResource(
    () => getJson<{ items: BrochureState[] }>(`/api/properties/${listing.property_id}/brochures`),
    [listing.property_id, listing.brochure_ids.length],
  );
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const upload = useAction(async () => {
    if (!file) throw new Error("choose a PDF first");
    if (file.size > MAX_BROCHURE_BYTES) throw new Error("a brochure can be at most 50 MB");
    setDone(null);
    setProgress({ sent: 0, total: file.size });
    const ticket = await postJson<BrochureUpload>(`/api/properties/${listing.property_id}/brochures`, {
      filename: file.name,
      content_type: file.type || "application/pdf",
      size: file.size,
    });
    await uploadFile(ticket, file, (sent, total) => setProgress({ sent, total }));
    setDone(ticket.brochure_id);
    onUploaded();
    await states.reload();
  });
  const percent = progress && progress.total > 0 ? Math.round((progress.sent / progress.total) * 100) : 0;
  const waiting = states.data?.items.some((b) => !b.ingested && !b.unreadable_reason) ?? false;
  usePolling(() => {
    if (waiting && !states.loading) void states.reload();
  }, BROCHURE_POLL_SECONDS);

  return (
    <section class="panel" aria-labelledby="brochures-title">
      <h2 id="brochures-title">Brochures of {listing.title}</h2>
      {states.error !== null ? (
        <ErrorBox error={states.error} retry={() => void states.reload()} />
      ) : !states.data ? (
        <Loading what="brochures" />
      ) : states.data.items.length === 0 ? (
        <p class="empty">No brochure yet.</p>
      ) : (
        <ul class="brochures">
          {states.data.items.map((b) => (
            <li key={b.brochure_id} data-brochure-id={b.brochure_id}>
              <code>{b.brochure_id}</code>{" "}
              {b.ingested ? (
                <span class="ingest ingested">
                  Read: {b.title ? `“${b.title}”, ` : ""}
                  {b.pages} {b.pages === 1 ? "page" : "pages"}, {b.chunks} passages the bot answers from
                </span>
              ) : b.unreadable_reason ? (
                <span class="ingest unreadable">
                  Could not be read: {b.unreadable_message ?? humanize(b.unreadable_reason)}. The bot cannot answer from it; upload a
                  readable PDF.
                </span>
              ) : (
                <span class="ingest waiting">Uploaded, not read yet: the bot can answer from it once it is read (usually within a minute)</span>
              )}
            </li>
          ))}
        </ul>
      )}
      <form
        class="upload"
        onSubmit={(event) => {
          event.preventDefault();
          void upload.run();
        }}
      >
        <label>
          PDF brochure (up to 50 MB)
          <input
            type="file"
            name="brochure"
            accept="application/pdf,.pdf"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        {progress && (upload.busy || done) && (
          <label>
            Upload progress
            <progress max={100} value={percent} aria-valuetext={`${percent}%`}>
              {percent}%
            </progress>
          </label>
        )}
        <p class="live" role="status" aria-live="polite">
          {upload.busy ? `Uploading… ${percent}%` : done ? `Uploaded brochure ${done}.` : ""}
        </p>
        {upload.error !== null && <ErrorBox error={upload.error} />}
        <div class="actions">
          <button type="submit" disabled={upload.busy || !file}>
            {upload.busy ? "Uploading…" : "Upload"}
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}
