// "Try the bot": a Telegram chat with the agency's bot on the local stack, posting the updates a lead's app would.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Session } from "../auth";
import { ErrorBox, usePolling } from "../components";
import type { SiteConfig, SimulatorConfig } from "../config";
import { LANGUAGE_NAMES, RTL_LANGUAGES } from "../format";
import "./TryBot.css";

/** A button of a Telegram keyboard, as the bot sent it. */
interface Button {
  text: string;
  callback_data?: string;
  url?: string;
  request_contact?: boolean;
}

interface Markup {
  inline_keyboard?: Button[][];
  keyboard?: Button[][];
  one_time_keyboard?: boolean;
  remove_keyboard?: boolean;
}

/** One call the fake Bot API recorded for this chat (GET /_local/outbox). */
interface BotCall {
  method: string;
  chat_id: string | null;
  payload: {
    text?: string;
    caption?: string;
    photo?: string;
    message_id?: number;
    reply_markup?: Markup;
  };
  message_id?: number;
  at: string;
  status?: number;
}

/** What the simulated lead did; `after` is how many of the chat's bot calls came before it. */
interface LeadTurn {
  after: number;
  text?: string;
  pressed?: string;
  contact?: string;
}

interface Conversation {
  chatId: number;
  name: string;
  language: string;
  phone: string;
  startParam: string;
  nextUpdateId: number;
  nextMessageId: number;
  turns: LeadTurn[];
}

const SENT_METHODS = new Set(["sendMessage", "sendPhoto"]);

function randomInt(below: number): number {
  const word = new Uint32Array(1);
  crypto.getRandomValues(word);
  return word[0]! % below;
}

function fresh(previous?: Conversation): Conversation {
  // Chat ids of their own (Telegram's user ids are up to 52 bits): never a seeded or real lead's.
  const chatId = 7_100_000_000 + randomInt(99_999_999);
  return {
    chatId,
    name: previous?.name ?? "Test lead",
    language: previous?.language ?? "en",
    phone: `+97150${String(1_000_000 + randomInt(8_999_999))}`,
    startParam: previous?.startParam ?? "",
    nextUpdateId: 1_000_000_000 + randomInt(900_000_000),
    nextMessageId: 1,
    turns: [],
  };
}

function storageKey(session: Session): string {
  return `leadbot.simulator.${session.claims.tenant}.${session.claims.sub}`;
}

function load(session: Session): Conversation {
  try {
    const raw = localStorage.getItem(storageKey(session));
    if (raw) return JSON.parse(raw) as Conversation;
  } catch {
    // unreadable: start afresh
  }
  return fresh();
}

export function TryBot({ config, session }: { config: SiteConfig; session: Session }) {
  const simulator = config.simulator;
  if (!simulator) {
    return (
      <section>
        <h1>Try the bot</h1>
        <p>The chat simulator runs on the local stack only.</p>
      </section>
    );
  }
  return <Simulator simulator={simulator} session={session} pollSeconds={config.poll_seconds} />;
}

function Simulator({
  simulator,
  session,
  pollSeconds,
}: {
  simulator: SimulatorConfig;
  session: Session;
  pollSeconds: number;
}) {
  const [chat, setChat] = useState<Conversation>(() => load(session));
  const [calls, setCalls] = useState<BotCall[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [failed, setFailed] = useState<(() => void) | null>(null);
  const [draft, setDraft] = useState("");
  const chatRef = useRef(chat);
  chatRef.current = chat;

  useEffect(() => {
    localStorage.setItem(storageKey(session), JSON.stringify(chat));
  }, [chat]);

  async function refresh(chatId = chatRef.current.chatId): Promise<BotCall[]> {
    const url = new URL(simulator.outbox_url, location.origin);
    url.searchParams.set("channel", "telegram");
    url.searchParams.set("chat_id", String(chatId));
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`the bot's messages: HTTP ${response.status}`);
    const found = (await response.json()) as BotCall[];
    if (chatId === chatRef.current.chatId) {
      setCalls(found);
      setLoaded(true);
    }
    return found;
  }

  useEffect(() => {
    setLoaded(false);
    setCalls([]);
    refresh(chat.chatId).catch((caught: unknown) => setError(caught));
  }, [chat.chatId]);

  usePolling(() => {
    if (!busy) refresh().catch(() => undefined);
  }, pollSeconds);

  function sender() {
    const c = chatRef.current;
    const user: Record<string, unknown> = { id: c.chatId, is_bot: false, first_name: c.name || "Test lead" };
    if (c.language) user["language_code"] = c.language;
    return user;
  }

  function privateChat() {
    const c = chatRef.current;
    return { id: c.chatId, type: "private", first_name: c.name || "Test lead" };
  }

  /** Post one update; the lead's turn shows at once, the bot's answer when it comes. */
  async function post(build: (updateId: number, messageId: number) => Record<string, unknown>, turn: Omit<LeadTurn, "after">) {
    const c = chatRef.current;
    const update = { update_id: c.nextUpdateId, ...build(c.nextUpdateId, c.nextMessageId) };
    const next = {
      ...c,
      nextUpdateId: c.nextUpdateId + 1,
      nextMessageId: c.nextMessageId + 1,
      turns: [...c.turns, { ...turn, after: calls.length }],
    };
    setChat(next);
    chatRef.current = next;
    await deliver(update);
  }

  async function deliver(update: Record<string, unknown>) {
    setBusy(true);
    setError(null);
    setFailed(null);
    try {
      const url = simulator.updates_url.replace("{tenant}", encodeURIComponent(session.claims.tenant));
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: session.token },
        body: JSON.stringify(update),
        cache: "no-store",
      });
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try {
          message = ((await response.json()) as { message?: string }).message ?? message;
        } catch {
          // not JSON: the status says enough
        }
        throw new Error(`The bot did not take the message: ${message}`);
      }
      await refresh();
    } catch (caught) {
      setError(caught instanceof TypeError ? new Error("The local stack cannot be reached") : caught);
      // Again with the same update_id: the webhook handles it once, as it does Telegram's retries.
      setFailed(() => () => void deliver(update));
    } finally {
      setBusy(false);
    }
  }

  function sendText(text: string) {
    const trimmed = text.trim();
    if (!trimmed || busy) return;
    void post(
      (_, messageId) => ({
        message: { message_id: messageId, from: sender(), chat: privateChat(), date: now(), text: trimmed },
      }),
      { text: trimmed },
    );
  }

  function press(call: BotCall, button: Button) {
    if (busy || button.callback_data === undefined) return;
    const data = button.callback_data;
    void post(
      (updateId) => ({
        callback_query: {
          id: String(updateId),
          from: sender(),
          message: {
            message_id: call.message_id ?? 0,
            from: { id: 1_000_000_001, is_bot: true, first_name: "LeadBot" },
            chat: privateChat(),
            date: Math.floor(Date.parse(call.at) / 1000) || now(),
            ...(call.payload.text !== undefined ? { text: call.payload.text } : {}),
            ...(call.payload.caption !== undefined ? { caption: call.payload.caption } : {}),
            ...(call.payload.reply_markup ? { reply_markup: call.payload.reply_markup } : {}),
          },
          chat_instance: String(chatRef.current.chatId),
          data,
        },
      }),
      { pressed: button.text },
    );
  }

  function shareContact() {
    const c = chatRef.current;
    if (busy || !c.phone.trim()) return;
    void post(
      (_, messageId) => ({
        message: {
          message_id: messageId,
          from: sender(),
          chat: privateChat(),
          date: now(),
          contact: { phone_number: c.phone.trim(), first_name: c.name || "Test lead", user_id: c.chatId },
        },
      }),
      { contact: c.phone.trim() },
    );
  }

  function start() {
    const param = chatRef.current.startParam.trim();
    sendText(param ? `/start ${param}` : "/start");
  }

  function restart() {
    const next = fresh(chatRef.current);
    chatRef.current = next;
    setChat(next);
    setError(null);
    setFailed(null);
  }

  // The newest message stays in view, as in a chat app.
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [calls.length, chat.turns.length, busy]);

  const update = (fields: Partial<Conversation>) => setChat({ ...chatRef.current, ...fields });
  const keyboard = replyKeyboard(calls, chat.turns);
  const rtl = RTL_LANGUAGES.has(chat.language);

  return (
    <section aria-labelledby="try-title" class="try-bot">
      <h1 id="try-title">Try the bot</h1>
      <p class="muted">
        Talk to your agency's bot as a Telegram lead would (local stack only). Each conversation is a new lead of
        your agency, on the board like any other.
      </p>
      <div class="try-grid">
        <form class="panel sim-profile" aria-label="The simulated lead" onSubmit={(event) => event.preventDefault()}>
          <h2>The lead</h2>
          <label>
            Name
            <input value={chat.name} onInput={(e) => update({ name: e.currentTarget.value })} disabled={chat.turns.length > 0} />
          </label>
          <label>
            Telegram language
            <select value={chat.language} onChange={(e) => update({ language: e.currentTarget.value })} disabled={chat.turns.length > 0}>
              {Object.entries(LANGUAGE_NAMES).map(([code, name]) => (
                <option key={code} value={code}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Phone shared as a contact
            <input value={chat.phone} inputMode="tel" onInput={(e) => update({ phone: e.currentTarget.value })} />
          </label>
          <label>
            Start parameter (a QR code's or link's source)
            <input
              value={chat.startParam}
              placeholder="qr_billboard"
              onInput={(e) => update({ startParam: e.currentTarget.value })}
              disabled={chat.turns.length > 0}
            />
          </label>
          <p class="meta">Chat id {chat.chatId}</p>
          <button type="button" class="secondary" onClick={restart} disabled={busy}>
            New conversation
          </button>
        </form>

        <div class="panel sim-phone">
          <h2 id="sim-chat-title">Chat with the bot</h2>
          <div role="log" aria-live="polite" aria-labelledby="sim-chat-title">
          <ol class="sim-chat" ref={list} aria-label="Messages, oldest first" tabIndex={0}>
            {rendered(calls, chat.turns, chat.language, rtl, busy, press)}
            {busy && (
              <li class="sim-typing" role="status">
                <span class="spinner" aria-hidden="true" /> LeadBot is typing…
              </li>
            )}
          </ol>
          </div>
          {!loaded && !error && <p class="meta">Loading the conversation…</p>}
          {error !== null && <ErrorBox error={error} {...(failed ? { retry: failed } : {})} />}
          {chat.turns.length === 0 ? (
            <button type="button" class="sim-start" onClick={start} disabled={busy}>
              Start
            </button>
          ) : (
            <>
              {keyboard && (
                <div class="sim-keyboard" role="group" aria-label="The bot's keyboard">
                  {keyboard.flat().map((button, index) => (
                    <button
                      type="button"
                      class="secondary"
                      key={index}
                      disabled={busy}
                      dir="auto"
                      onClick={() => (button.request_contact ? shareContact() : sendText(button.text))}
                    >
                      {button.request_contact ? "📱 " : ""}
                      {button.text}
                    </button>
                  ))}
                </div>
              )}
              <form
                class="sim-compose"
                onSubmit={(event) => {
                  event.preventDefault();
                  sendText(draft);
                  setDraft("");
                }}
              >
                <label class="visually-hidden" for="sim-message">
                  Message to the bot
                </label>
                <input
                  id="sim-message"
                  value={draft}
                  dir="auto"
                  lang={chat.language}
                  autoComplete="off"
                  placeholder="Message"
                  onInput={(e) => setDraft(e.currentTarget.value)}
                />
                <button type="submit" disabled={busy || !draft.trim()}>
                  Send
                </button>
              </form>
            </>
          )}
        </div>
      </div>
    </section>
  );
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** The chat as the lead sees it: the bot's messages (edits applied) with the lead's turns between them. */
function rendered(
  calls: BotCall[],
  turns: LeadTurn[],
  language: string,
  rtl: boolean,
  busy: boolean,
  press: (call: BotCall, button: Button) => void,
) {
  const edits = new Map<number, BotCall["payload"]>();
  for (const call of calls) {
    if ((call.method === "editMessageText" || call.method === "editMessageReplyMarkup") && call.payload.message_id) {
      edits.set(call.payload.message_id, { ...edits.get(call.payload.message_id), ...call.payload });
    }
  }
  const items = [];
  for (let index = 0; index <= calls.length; index++) {
    turns.forEach((turn, at) => {
      if (Math.min(turn.after, calls.length) === index) items.push(<LeadBubble key={`lead-${at}`} turn={turn} language={language} />);
    });
    const call = calls[index];
    if (!call || !SENT_METHODS.has(call.method) || (call.status !== undefined && call.status !== 200)) continue;
    const edit = call.message_id !== undefined ? edits.get(call.message_id) : undefined;
    const payload = edit ? { ...call.payload, ...edit } : call.payload;
    const text = payload.text ?? payload.caption ?? "";
    const inline = payload.reply_markup?.inline_keyboard;
    items.push(
      <li key={`bot-${index}`} class="sim-bubble bot">
        <span class="who">Bot</span>
        {call.method === "sendPhoto" && (
          <a class="photo" href={payload.photo} target="_blank" rel="noreferrer">
            📷 Photo
          </a>
        )}
        {text && (
          <p class="text" dir="auto" lang={rtl ? language : undefined}>
            {text}
          </p>
        )}
        {inline && (
          <div class="sim-inline" role="group" aria-label="Buttons">
            {inline.map((row, r) => (
              <div class="row" key={r}>
                {row.map((button, b) =>
                  button.url ? (
                    <a key={b} class="sim-button" href={button.url} target="_blank" rel="noreferrer" dir="auto">
                      {button.text} ↗
                    </a>
                  ) : (
                    <button
                      key={b}
                      type="button"
                      class="sim-button"
                      dir="auto"
                      disabled={busy}
                      data-callback={button.callback_data}
                      onClick={() => press(call, button)}
                    >
                      {button.text}
                    </button>
                  ),
                )}
              </div>
            ))}
          </div>
        )}
      </li>,
    );
  }
  return items;
}

function LeadBubble({ turn, language }: { turn: LeadTurn; language: string }) {
  return (
    <li class="sim-bubble lead">
      <span class="who">Lead</span>
      {turn.text !== undefined && (
        <p class="text" dir="auto" lang={language}>
          {turn.text}
        </p>
      )}
      {turn.pressed !== undefined && (
        <p class="text action" dir="auto">
          Pressed “<bdi>{turn.pressed}</bdi>”
        </p>
      )}
      {turn.contact !== undefined && <p class="text action">📱 Shared the contact {turn.contact}</p>}
    </li>
  );
}

/** The reply keyboard showing now: the last one sent, unless removed or used once since. */
function replyKeyboard(calls: BotCall[], turns: LeadTurn[]): Button[][] | null {
  for (let index = calls.length - 1; index >= 0; index--) {
    const markup = calls[index]!.payload.reply_markup;
    if (!markup || !SENT_METHODS.has(calls[index]!.method)) continue;
    if (markup.remove_keyboard) return null;
    if (markup.keyboard) {
      const used = turns.some((turn) => turn.after > index && (turn.text !== undefined || turn.contact !== undefined));
      return markup.one_time_keyboard && used ? null : markup.keyboard;
    }
  }
  return null;
}
