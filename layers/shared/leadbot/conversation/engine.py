"""The conversation state machine: `step(lead, event, ctx) -> Decision`; pure, channel-neutral."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadbot.conversation.guard import admit, warn
from leadbot.conversation.progress import qualification_score, urgency_score
from leadbot.conversation.questions import QUESTIONS, next_stage
from leadbot.domain import (
    Channel,
    Choice,
    Decision,
    DomainEvent,
    EventKind,
    FlowMode,
    InboundEvent,
    Language,
    Lead,
    LeadStatus,
    Link,
    Money,
    Outbound,
    PhoneCaptured,
    SlowedDown,
    Stage,
    Tenant,
)
from leadbot.domain.handoff import (
    HANDED_OFF,
    BrokerRequested,
    may_request_broker,
    next_business_time,
    reference,
)
from leadbot.domain.knowledge import Answer, KnowledgeGap
from leadbot.i18n import t
from leadbot.parsing import detect_script_language, language_from_code, parse_phone
from leadbot.parsing.answers import (
    asks_for_catalog,
    is_connect,
    is_question,
    is_stop_word,
    is_worded_as_question,
    is_yes,
    start_payload,
)

if TYPE_CHECKING:
    # Listings are imported when a step shows or acts on one, not at a cold start.
    from leadbot.domain.listings import Property

QR_PREFIX = "qr_"
LANGUAGE_PREFIX = "lang:"
# The answers to "may an agent call you on this number?" where the channel knows the number.
CALL_THIS_NUMBER = "contact:this"
CALL_ANOTHER_NUMBER = "contact:other"
# What a lead who opted out sends to come back, as the channel lets them send it.
_RESTART = {Channel.TELEGRAM: "/start", Channel.WHATSAPP: "START"}
# A listing card's buttons: prop:<property_id>:<action>, at most 42 bytes with a ULID (Telegram's
# callback_data holds 64). They work in any stage after the cards were shown.
LISTING_PREFIX = "prop:"
INTERESTED, SHOW_MORE, VIEWING, ASK = "interested", "more", "viewing", "ask"
_LISTING_ACTIONS = (INTERESTED, SHOW_MORE, VIEWING, ASK)
# The "Connect me" button's value: the lead asks for a broker (as YES / CONNECT typed).
HANDOFF = "handoff"
# Stages whose pending question is asked again after a free question or a card button.
_QUALIFYING = frozenset(set(Stage) - {Stage.LANGUAGE, Stage.QA, Stage.ENGAGEMENT})


# (lead_id, catalog_id) -> the tracked URL of that catalog for that lead
CatalogUrl = Callable[[str, str], str]


@dataclass(frozen=True)
class Ctx:
    """What a step may know besides the lead and the event: the agency, the time, link making.

    `catalog_url` is made by the service (it holds the signing key and the public address);
    without it the conversation offers no catalog links.
    """

    tenant: Tenant
    now: datetime
    catalog_url: CatalogUrl | None = None
    # The sender's own number when the channel vouches for it (WhatsApp): the contact stage
    # then asks for consent to call it instead of asking for a number. Set by `step`.
    sender_phone: str | None = None
    # The agency's active listings, loaded by the service when `needs` says the step may offer
    # or act on one; None: not loaded (nothing is offered).
    listings: tuple[Property, ...] | None = None
    # The answer to the question `needs` named, found by the service before the step; None:
    # nothing known (the lead hears so and the question is a knowledge gap).
    answer: Answer | None = None


@dataclass(frozen=True)
class Needs:
    """What the service must look up before stepping an event: the listings, an answer."""

    listings: bool = False
    question: str | None = None  # the lead's question, to be answered in `language`
    language: Language = Language.EN


def needs(lead: Lead, event: InboundEvent, tenant: Tenant) -> Needs:
    """What `step` may use for this event besides the lead: listings only where cards may be
    offered or a card's button was pressed, an answer only where a question is answered. An
    ordinary message needs neither, so it costs no extra request."""
    if lead.bot_paused or lead.opted_out:
        return Needs()
    lang = (
        _greeting_language(event, tenant)
        if lead.stage is Stage.LANGUAGE
        else _lang_of(lead, tenant)
    )
    question = asked(lead, event, tenant)
    pressed_card = event.kind is EventKind.CHOICE and event.payload.startswith(LISTING_PREFIX)
    # The last qualifying answer, when valid, brings the cards.
    last_answer = (
        question is None
        and event.kind in (EventKind.TEXT, EventKind.CHOICE)
        and lead.stage in QUESTIONS
        and next_stage(lead.stage, lead, tenant.flow_mode) is Stage.CONTACT
        and QUESTIONS[lead.stage].read(event.text, _choice_of(event), tenant, lang) is not None
    )
    return Needs(listings=pressed_card or last_answer, question=question, language=lang)


def _choice_of(event: InboundEvent) -> str:
    return event.payload if event.kind is EventKind.CHOICE else ""


def asked(lead: Lead, event: InboundEvent, tenant: Tenant) -> str | None:
    """The question `event` asks, if `step` answers it rather than reading it as an answer.

    While qualifying, a message worded as a question ("how much is a 2 bedroom") is one; a
    valid answer that only ends with a question mark ("2 bedrooms?") is taken as the answer,
    and an invalid one with the mark is a question. After the phone, and in the Q&A part of
    qa_first, any question is one (a catalog request gets the catalogs instead).
    """
    if event.kind is not EventKind.TEXT or start_payload(event.text) is not None:
        return None
    text = event.text.strip()
    if not text or is_stop_word(text) or not is_question(text):
        return None
    stage = lead.stage
    if stage is Stage.LANGUAGE:
        return text if tenant.flow_mode is FlowMode.QA_FIRST else None
    if stage in (Stage.QA, Stage.ENGAGEMENT):
        return None if asks_for_catalog(text) else text
    if stage is Stage.CONTACT:
        own = event.sender_phone is not None and is_yes(text)
        return None if own or parse_phone(text, tenant.phone_region) else text
    if is_worded_as_question(text):
        return text
    lang = _lang_of(lead, tenant)
    return text if QUESTIONS[stage].read(text, "", tenant, lang) is None else None


def step(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """Advance one lead by one inbound event."""
    decision = _step(lead, event, ctx)
    return replace(decision, lead=_settle(decision.lead, ctx))


def _settle(lead: Lead, ctx: Ctx) -> Lead:
    """What follows from the lead's answers: the four-question score and urgency."""
    score = qualification_score(lead)
    qualified = score == 4
    return replace(
        lead,
        qualification_score=score,
        is_qualified=qualified,
        qualified_at=(lead.qualified_at or ctx.now) if qualified else lead.qualified_at,
        urgency_score=urgency_score(lead.timeline, lead.fomo_messages_sent),
    )


def _step(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    if event.kind is EventKind.TEXT and (payload := start_payload(event.text)) is not None:
        event = replace(event, kind=EventKind.START, payload=payload)
    if event.sender_phone:
        ctx = replace(ctx, sender_phone=event.sender_phone)
    if event.kind is EventKind.BLOCKED:
        return Decision(lead=replace(lead, unreachable=True, updated_at=ctx.now))
    if event.kind is EventKind.UNBLOCKED:
        return Decision(lead=replace(lead, unreachable=False, updated_at=ctx.now))

    stopping = event.kind is EventKind.STOP or (
        event.kind is EventKind.TEXT and is_stop_word(event.text)
    )
    if not stopping:  # opting out always gets through
        admission = admit(lead.rate_tokens, lead.last_inbound_at, ctx.now)
        if not admission.allowed:
            return _slow_down(lead, admission.tokens, ctx)
        lead = replace(lead, rate_tokens=admission.tokens)
    lead = _touch(lead, event, ctx)
    if stopping:
        lead = replace(lead, opted_out=True)
        confirm = t("stop.confirm", _lang(lead, ctx), start=_restart(event))
        return _say(lead, Outbound(text=confirm, remove_keyboard=True))
    if lead.bot_paused:
        return Decision(lead=lead)  # an agent is talking with the lead: counted, not answered
    if event.kind is EventKind.START:
        return _start(lead, event, ctx)
    if lead.opted_out:
        opted_out = t("stop.opted_out", _lang(lead, ctx), start=_restart(event))
        return _say(lead, Outbound(text=opted_out))
    if event.kind is EventKind.LANGUAGE:
        return _say(lead, _language_menu(_lang(lead, ctx), ctx))
    if event.kind is EventKind.CHOICE and event.payload.startswith(LANGUAGE_PREFIX):
        return _change_language(lead, event.payload.removeprefix(LANGUAGE_PREFIX), ctx)
    if lead.stage is Stage.LANGUAGE:
        return _first_contact(lead, event, ctx)
    if event.kind is EventKind.CHOICE and event.payload.startswith(LISTING_PREFIX):
        return _listing_button(lead, event.payload, ctx)
    if _asks_for_broker(lead, event):
        return _broker_request(lead, ctx)
    if lead.stage is Stage.ENGAGEMENT:
        return _engage(lead, event, ctx)
    if lead.stage is Stage.QA:
        return _qa(lead, event, ctx)
    if event.kind is EventKind.VOICE:
        return _reask(lead, ctx, "voice.unsupported")
    if (question := asked(lead, event, ctx.tenant)) is not None:
        reply, events = _reply_to_question(lead, question, ctx)
        return _say(lead, reply, _question(lead, ctx), events=events)
    if lead.stage is Stage.CONTACT:
        return _contact(lead, event, ctx)
    return _answer(lead, event, ctx)


def _touch(lead: Lead, event: InboundEvent, ctx: Ctx) -> Lead:
    """Count the message and remember who sent it."""
    update: dict[str, Any] = {
        "messages_count": lead.messages_count + 1,
        "last_inbound_at": ctx.now,
        "updated_at": ctx.now,
        "unreachable": False,
    }
    if event.kind is EventKind.VOICE or event.voice:  # a transcript is still a voice note
        update["voice_count"] = lead.voice_count + 1
    if event.name and not lead.name:
        update["name"] = event.name
    if event.username and event.username != lead.username:
        update["username"] = event.username
    return replace(lead, **update)


def _slow_down(lead: Lead, tokens: float, ctx: Ctx) -> Decision:
    """A message over the guard's rate: not counted, not answered, but its time kept (the
    bucket's clock, WhatsApp's 24-hour window). The first of a flood hears "slow down"."""
    lead = replace(lead, rate_tokens=tokens, last_inbound_at=ctx.now, updated_at=ctx.now)
    if not warn(lead.slowed_down_at, ctx.now) or lead.opted_out or lead.bot_paused:
        return Decision(lead=lead)
    lead = replace(lead, slowed_down_at=ctx.now)
    return _say(lead, Outbound(text=t("guard.slow_down", _lang(lead, ctx))), events=(SlowedDown(),))


def _restart(event: InboundEvent) -> str:
    return _RESTART.get(event.channel, "/start")


def _lang(lead: Lead, ctx: Ctx) -> Language:
    return _lang_of(lead, ctx.tenant)


def _lang_of(lead: Lead, tenant: Tenant) -> Language:
    return lead.language or tenant.default_language


def _supported(lang: Language | None, tenant: Tenant) -> Language | None:
    return lang if lang in tenant.languages else None


def _say(lead: Lead, *outbound: Outbound, events: tuple[DomainEvent, ...] = ()) -> Decision:
    return Decision(lead=lead, outbound=outbound, events=events)


def _start(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    update: dict[str, Any] = {"opted_out": False}
    if event.payload.startswith(QR_PREFIX):
        update["qr_scans"] = lead.qr_scans + 1
        update["source"] = lead.source or event.payload.removeprefix(QR_PREFIX)[:64]
    elif event.payload and not lead.source:
        update["source"] = event.payload[:64]
    lead = replace(lead, **update)
    if lead.stage is Stage.LANGUAGE:
        return _first_contact(lead, event, ctx)
    lang = _lang(lead, ctx)
    if lead.stage is Stage.ENGAGEMENT:
        return _say(lead, Outbound(text=t("engagement.welcome_back", lang)))
    return _say(lead, _question(lead, ctx, prefix=t("resume", lang)))


def _greeting_language(event: InboundEvent, tenant: Tenant) -> Language:
    """The lead's language at first contact: the script of what they typed, else Telegram's
    language."""
    typed = detect_script_language(event.text) if event.kind is EventKind.TEXT else None
    # A non-Latin script is a strong signal; "hi" or "ok" in Latin says less than Telegram's
    # language_code does.
    return (
        _supported(typed if typed is not Language.EN else None, tenant)
        or _supported(language_from_code(event.language_hint), tenant)
        or _supported(typed, tenant)
        or tenant.default_language
    )


def _first_contact(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """Greet in the lead's language and ask the first question; in qa_first, invite questions
    (answering one the first message asked)."""
    lang = _greeting_language(event, ctx.tenant)
    question = asked(lead, event, ctx.tenant)
    stage = next_stage(Stage.LANGUAGE, lead, ctx.tenant.flow_mode)
    lead = replace(lead, language=lang, stage=stage, status=LeadStatus.QUALIFYING)
    if stage is Stage.QA:
        greeting = Outbound(text=t("qa.welcome", lang, agency=ctx.tenant.name))
    else:
        greeting = _question(lead, ctx, prefix=t("welcome", lang, agency=ctx.tenant.name))
    if len(ctx.tenant.languages) > 1:
        switch = Choice(label=t("language.button", lang), value="lang:menu")
        greeting = replace(greeting, choices=(*greeting.choices, switch))
    if stage is not Stage.QA:
        return _say(lead, greeting)
    replies: tuple[Outbound, ...] = (greeting,)
    events: tuple[DomainEvent, ...] = ()
    if question is not None:
        reply, events = _reply_to_question(lead, question, ctx)
        replies += (reply,)
    return _qa_turn(lead, replies, events, ctx)


def _qa(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """qa_first before qualifying: answer questions (catalogs on request), then after the
    agency's number of messages start the four questions."""
    lang = _lang(lead, ctx)
    events: tuple[DomainEvent, ...] = ()
    if event.kind is EventKind.VOICE:
        reply = Outbound(text=t("voice.unsupported", lang))
    elif event.kind is EventKind.TEXT and asks_for_catalog(event.text):
        reply = _catalog_offer(lead, ctx) or Outbound(text=t("catalog.unavailable", lang))
    elif (question := asked(lead, event, ctx.tenant)) is not None:
        reply, events = _reply_to_question(lead, question, ctx)
    else:
        reply = Outbound(text=t("qa.prompt", lang))
    return _qa_turn(lead, (reply,), events, ctx)


def _qa_turn(
    lead: Lead, replies: tuple[Outbound, ...], events: tuple[DomainEvent, ...], ctx: Ctx
) -> Decision:
    """The replies, and once the lead has sent `qa_first_after` messages, the first of the
    four questions."""
    if lead.messages_count < ctx.tenant.qa_first_after:
        return _say(lead, *replies, events=events)
    lead = replace(lead, stage=next_stage(Stage.QA, lead, ctx.tenant.flow_mode))
    start = _question(lead, ctx, prefix=t("qa.start", _lang(lead, ctx)))
    return _say(lead, *replies, start, events=events)


def _language_menu(lang: Language, ctx: Ctx) -> Outbound:
    choices = tuple(
        Choice(label=t(f"language.name.{code.value}", lang), value=f"{LANGUAGE_PREFIX}{code.value}")
        for code in ctx.tenant.languages
    )
    return Outbound(text=t("language.ask", lang), choices=choices)


def _change_language(lead: Lead, code: str, ctx: Ctx) -> Decision:
    chosen = _supported(next((lang for lang in Language if lang.value == code), None), ctx.tenant)
    if chosen is None:
        return _say(lead, _language_menu(_lang(lead, ctx), ctx))
    stage = Stage.GOAL if lead.stage is Stage.LANGUAGE else lead.stage
    lead = replace(lead, language=chosen, stage=stage)
    changed = t("language.changed", chosen)
    if lead.stage is Stage.ENGAGEMENT:
        return _say(lead, Outbound(text=changed))
    return _say(lead, _question(lead, ctx, prefix=changed))


def _question(lead: Lead, ctx: Ctx, prefix: str = "") -> Outbound:
    """The pending question of the lead's stage, in its language, with its buttons."""
    lang = _lang(lead, ctx)
    if lead.stage is Stage.CONTACT and ctx.sender_phone:
        choices = (
            Choice(label=t("contact.consent.yes", lang), value=CALL_THIS_NUMBER),
            Choice(label=t("contact.consent.other", lang), value=CALL_ANOTHER_NUMBER),
        )
        text = t("contact.consent", lang, phone=ctx.sender_phone)
        return Outbound(text=_join(prefix, text), choices=choices)
    if lead.stage is Stage.CONTACT:
        text = t("contact.ask", lang)
        button = t("contact.button", lang)
        return Outbound(text=_join(prefix, text), request_contact=button)
    if lead.stage is Stage.QA:
        return Outbound(text=_join(prefix, t("qa.prompt", lang)))
    text = t(f"{lead.stage.value}.ask", lang)
    return Outbound(text=_join(prefix, text), choices=QUESTIONS[lead.stage].choices(lang))


def _reask(lead: Lead, ctx: Ctx, hint_key: str) -> Decision:
    lead = replace(lead, invalid_answers=lead.invalid_answers + 1)
    return _say(lead, _question(lead, ctx, prefix=t(hint_key, _lang(lead, ctx))))


def _answer(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    question = QUESTIONS[lead.stage]
    lang = _lang(lead, ctx)
    if event.kind is EventKind.LOCATION and lead.stage is Stage.LOCATION:
        fields: dict[str, Any] | None = {"location": event.text}
    elif event.kind in (EventKind.TEXT, EventKind.CHOICE):
        fields = question.read(event.text, _choice_of(event), ctx.tenant, lang)
    else:
        return _reask(lead, ctx, "unsupported")
    if fields is None:
        return _reask(lead, ctx, f"{lead.stage.value}.hint")
    lead = replace(lead, **fields)
    lead = replace(lead, stage=next_stage(lead.stage, lead, ctx.tenant.flow_mode))
    budget = fields.get("budget")
    prefix = (
        t("budget.noted", lang, budget=format_money(budget)) if isinstance(budget, Money) else ""
    )
    if lead.stage is not Stage.CONTACT:
        return _say(lead, _question(lead, ctx, prefix=prefix))
    # The value proposition: what fits, before the phone is asked for (DESIGN.md §6).
    lead, cards = _offer(lead, ctx, first=True)
    return _say(lead, *cards, _question(lead, ctx, prefix=prefix))


def _contact(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """A number to call: shared or typed, or (where the channel knows it) the lead's consent to
    be called on the number they write from; the admins are alerted once it is captured."""
    lang = _lang(lead, ctx)
    if event.kind is EventKind.CONTACT and not event.contact_is_own:
        return _say(lead, _question(lead, ctx, prefix=t("contact.not_own", lang)))
    consented = ctx.sender_phone is not None and (
        (event.kind is EventKind.CHOICE and event.payload == CALL_THIS_NUMBER)
        or (event.kind is EventKind.TEXT and is_yes(event.text))
    )
    if event.kind is EventKind.CHOICE and event.payload == CALL_ANOTHER_NUMBER:
        return _say(lead, Outbound(text=t("contact.other", lang)))
    if consented:
        raw = ctx.sender_phone
    elif event.kind is EventKind.CONTACT:
        raw = event.contact_phone
    else:
        raw = event.text
    phone = parse_phone(raw or "", ctx.tenant.phone_region)
    if phone is None:
        return _reask(lead, ctx, "contact.hint")
    lead = replace(
        lead,
        phone=phone,
        phone_captured_at=ctx.now,
        stage=Stage.ENGAGEMENT,
        status=LeadStatus.QUALIFIED,
    )
    thanks = t("contact.thanks", lang, name=lead.name or "", phone=phone)
    # Telegram cannot remove the share-phone keyboard and show buttons in one message: the
    # catalogs' links and the broker's button follow, together.
    catalogs = _catalog_offer(lead, ctx)
    text = _join(catalogs.text, t("handoff.offer", lang)) if catalogs else t("handoff.offer", lang)
    offer = _broker_offer(text, lang)
    if catalogs is not None:
        offer = replace(offer, links=catalogs.links)
    return _say(
        lead,
        Outbound(text=thanks, remove_keyboard=True),
        offer,
        events=(PhoneCaptured(lead_id=lead.lead_id),),
    )


def _broker_offer(text: str, lang: Language) -> Outbound:
    return Outbound(text=text, choices=(Choice(label=t("handoff.button", lang), value=HANDOFF),))


def _asks_for_broker(lead: Lead, event: InboundEvent) -> bool:
    """The button, CONNECT in so many words, or YES: after qualifying, where the broker was
    offered, and while qualifying (to be asked to finish first). Not in the contact stage,
    where YES is consent to be called on this number."""
    if event.kind is EventKind.CHOICE:
        return event.payload == HANDOFF
    if event.kind is not EventKind.TEXT:
        return False
    return is_connect(event.text) or (lead.stage is not Stage.CONTACT and is_yes(event.text))


def _broker_request(lead: Lead, ctx: Ctx) -> Decision:
    """A qualified lead gets a broker: its reference and when to expect the call (the agency's
    business hours); a lead already handed off is reminded of it; anyone else finishes the
    questions first."""
    lang = _lang(lead, ctx)
    ref = reference(lead.lead_id)
    if lead.stage is Stage.ENGAGEMENT and lead.status in HANDED_OFF:
        return _say(lead, _handed_off(lead, lang))
    if lead.stage is Stage.ENGAGEMENT and may_request_broker(lead):
        lead = replace(lead, status=LeadStatus.BROKER_REQUESTED, broker_requested_at=ctx.now)
        text = t(
            "handoff.requested", lang, phone=lead.phone, when=_call_time(ctx, lang), reference=ref
        )
        return _say(lead, Outbound(text=text), events=(BrokerRequested(reference=ref),))
    if lead.stage is Stage.QA:
        lead = replace(lead, stage=next_stage(Stage.QA, lead, ctx.tenant.flow_mode))
    if lead.stage is Stage.ENGAGEMENT:
        return _say(lead, Outbound(text=t("handoff.finish_first", lang)))
    return _say(lead, _question(lead, ctx, prefix=t("handoff.finish_first", lang)))


def _handed_off(lead: Lead, lang: Language) -> Outbound:
    """What a lead handed to the brokers hears instead of an offer: the bot no longer sells."""
    text = t("handoff.already", lang, reference=reference(lead.lead_id), phone=lead.phone or "")
    return Outbound(text=text)


def _call_time(ctx: Ctx, lang: Language) -> str:
    """When a broker may call, in words: now within business hours, else when they open."""
    opens = next_business_time(ctx.now, ctx.tenant)
    if opens is None:
        return t("handoff.when.now", lang)
    clock_time = opens.strftime("%H:%M")
    days = (opens.date() - ctx.now.astimezone(opens.tzinfo).date()).days
    if days == 0:
        return t("handoff.when.today", lang, time=clock_time)
    if days == 1:
        return t("handoff.when.tomorrow", lang, time=clock_time)
    return t("handoff.when.day", lang, day=t(f"day.{opens.weekday()}", lang), time=clock_time)


def _engage(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """After qualifying: catalogs on request, questions answered (or recorded as a knowledge
    gap when nothing is known), otherwise an agent is on the way."""
    lang = _lang(lead, ctx)
    if event.kind is EventKind.VOICE:
        return _say(lead, Outbound(text=t("voice.unsupported", lang)))
    if event.kind is EventKind.TEXT and asks_for_catalog(event.text):
        offer = _catalog_offer(lead, ctx)
        return _say(lead, offer or Outbound(text=t("catalog.unavailable", lang)))
    if (question := asked(lead, event, ctx.tenant)) is not None:
        reply, events = _reply_to_question(lead, question, ctx)
        return _say(lead, reply, events=events)
    if lead.status in HANDED_OFF:
        return _say(lead, _handed_off(lead, lang))
    return _say(lead, _broker_offer(t("engagement.ack", lang), lang))


def _reply_to_question(
    lead: Lead, question: str, ctx: Ctx
) -> tuple[Outbound, tuple[DomainEvent, ...]]:
    """The answer the service found, with where it comes from; else that nothing is known,
    an agent's offer, and a knowledge gap for the agency."""
    lang = _lang(lead, ctx)
    answer = ctx.answer
    if answer is not None:
        sources = "\n".join(
            t("answer.source.page", lang, title=c.title, page=c.page)
            if c.page is not None
            else t("answer.source.listing", lang, title=c.title)
            for c in answer.citations
        )
        return Outbound(text=_join(answer.text, sources)), ()
    key = "answer.unknown_agent" if lead.stage is Stage.ENGAGEMENT else "answer.unknown"
    gap = KnowledgeGap(question=question, language=lang)
    return Outbound(text=t(key, lang)), (gap,)


def _listing_button(lead: Lead, payload: str, ctx: Ctx) -> Decision:
    """A listing card's button, in whatever stage the lead is now; then the pending question,
    if any, again (except after "Ask a question": the lead is about to type one)."""
    from leadbot.domain.listings import ListingInterest, ViewingRequested

    lang = _lang(lead, ctx)
    property_id, _, action = payload.removeprefix(LISTING_PREFIX).rpartition(":")
    if action == SHOW_MORE and lead.status in HANDED_OFF:
        return _say(lead, _handed_off(lead, lang))  # the broker shows more now
    if action == SHOW_MORE:
        lead, replies = _offer(lead, ctx, first=False)
        return _say(lead, *replies, *_pending(lead, ctx))
    listing = next((p for p in ctx.listings or () if p.property_id == property_id), None)
    events: tuple[DomainEvent, ...] = ()
    if listing is None or action not in _LISTING_ACTIONS:
        return _say(lead, Outbound(text=t("listing.gone", lang)), *_pending(lead, ctx))
    if action == ASK:
        return _say(lead, Outbound(text=t("listing.ask", lang, title=listing.title)))
    if action == INTERESTED:
        events = (ListingInterest(property_id=property_id, title=listing.title),)
        reply = t("listing.interested", lang, title=listing.title)
    else:
        lead = replace(lead, viewing_requested_at=ctx.now, viewing_property_id=property_id)
        events = (ViewingRequested(property_id=property_id, title=listing.title),)
        reply = t("listing.viewing", lang, title=listing.title)
    return _say(lead, Outbound(text=reply), *_pending(lead, ctx), events=events)


def _pending(lead: Lead, ctx: Ctx) -> tuple[Outbound, ...]:
    """The question the lead still owes an answer to, if any."""
    return (_question(lead, ctx),) if lead.stage in _QUALIFYING else ()


def _offer(lead: Lead, ctx: Ctx, *, first: bool) -> tuple[Lead, tuple[Outbound, ...]]:
    """Cards of the best listings not offered yet, each with its buttons and, where the real
    count of units is at most the agency's threshold, that count; with none, the honest
    alternative (a consultation on off-market units)."""
    from leadbot.conversation.matching import next_matches, scarce

    lang = _lang(lead, ctx)
    found = next_matches(lead, ctx.listings or ())
    if not found:
        return lead, (Outbound(text=t("value.none" if first else "listing.no_more", lang)),)
    cards = tuple(listing_card(p, lang, ctx.tenant.scarcity_threshold) for p in found)
    if first:
        cards = (replace(cards[0], text=_join(t("value.intro", lang), cards[0].text)), *cards[1:])
    lead = replace(
        lead,
        offered_property_ids=(*lead.offered_property_ids, *(p.property_id for p in found)),
        fomo_messages_sent=lead.fomo_messages_sent
        + sum(scarce(p, ctx.tenant.scarcity_threshold) for p in found),
    )
    return lead, cards


def listing_card(listing: Property, lang: Language, threshold: int) -> Outbound:
    """A listing as a card with its buttons; its real count of units where that is at most
    the agency's threshold. Follow-ups show listings with it too."""
    from leadbot.conversation.matching import scarce
    from leadbot.domain.listings import Transaction

    price = format_money(listing.price)
    lines = [
        f"🏠 {listing.title}",
        t("listing.card.location", lang, location=listing.location),
        t(
            "listing.card.rent"
            if listing.transaction is Transaction.RENT
            else "listing.card.price",
            lang,
            price=price,
        ),
    ]
    if listing.size_sqft is not None:
        lines.append(t("listing.card.size", lang, size=f"{listing.size_sqft:,.0f}"))
    if listing.bedrooms is not None:
        lines.append(
            t("listing.card.bedrooms", lang, bedrooms=t(f"bedrooms.{listing.bedrooms.value}", lang))
        )
    if scarce(listing, threshold):
        key = "listing.scarcity.one" if listing.units_available == 1 else "listing.scarcity.many"
        lines.append(t(key, lang, count=listing.units_available))
    choices = tuple(
        Choice(
            label=t(f"listing.button.{action}", lang),
            value=f"{LISTING_PREFIX}{listing.property_id}:{action}",
        )
        for action in _LISTING_ACTIONS
    )
    # The photo leads the card; channels put the text in its caption when it fits.
    return Outbound(text="\n".join(lines), choices=choices, image=listing.image_url)


def _catalog_offer(lead: Lead, ctx: Ctx) -> Outbound | None:
    """The tenant's catalogs as tracked links for this lead; None if there is nothing to offer."""
    make_url = ctx.catalog_url
    if make_url is None or not ctx.tenant.catalogs:
        return None
    links = tuple(
        Link(label=catalog.title, url=make_url(lead.lead_id, catalog.catalog_id))
        for catalog in ctx.tenant.catalogs
    )
    return Outbound(text=t("catalog.offer", _lang(lead, ctx)), links=links)


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def format_money(money: Money) -> str:
    return f"{money.amount:,.0f} {money.currency}"
