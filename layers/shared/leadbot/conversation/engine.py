"""The conversation state machine: `step(lead, event, ctx) -> Decision`; pure, channel-neutral."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from leadbot.conversation.questions import QUESTIONS, next_stage
from leadbot.domain import (
    Channel,
    Choice,
    Decision,
    DomainEvent,
    EventKind,
    InboundEvent,
    Language,
    Lead,
    LeadStatus,
    Link,
    Money,
    Outbound,
    PhoneCaptured,
    Stage,
    Tenant,
)
from leadbot.domain.knowledge import KnowledgeGap
from leadbot.i18n import t
from leadbot.parsing import detect_script_language, language_from_code, parse_phone
from leadbot.parsing.answers import (
    asks_for_catalog,
    is_question,
    is_stop_word,
    is_yes,
    start_payload,
)

QR_PREFIX = "qr_"
LANGUAGE_PREFIX = "lang:"
# The answers to "may an agent call you on this number?" where the channel knows the number.
CALL_THIS_NUMBER = "contact:this"
CALL_ANOTHER_NUMBER = "contact:other"
# What a lead who opted out sends to come back, as the channel lets them send it.
_RESTART = {Channel.TELEGRAM: "/start", Channel.WHATSAPP: "START"}


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


def step(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """Advance one lead by one inbound event."""
    if event.kind is EventKind.TEXT and (payload := start_payload(event.text)) is not None:
        event = replace(event, kind=EventKind.START, payload=payload)
    if event.sender_phone:
        ctx = replace(ctx, sender_phone=event.sender_phone)
    if event.kind is EventKind.BLOCKED:
        return Decision(lead=replace(lead, unreachable=True, updated_at=ctx.now))
    if event.kind is EventKind.UNBLOCKED:
        return Decision(lead=replace(lead, unreachable=False, updated_at=ctx.now))

    lead = _touch(lead, event, ctx)
    if event.kind is EventKind.STOP or (event.kind is EventKind.TEXT and is_stop_word(event.text)):
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
    if lead.stage is Stage.ENGAGEMENT:
        return _engage(lead, event, ctx)
    if event.kind is EventKind.VOICE:
        return _reask(lead, ctx, "voice.unsupported")
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


def _restart(event: InboundEvent) -> str:
    return _RESTART.get(event.channel, "/start")


def _lang(lead: Lead, ctx: Ctx) -> Language:
    return lead.language or ctx.tenant.default_language


def _supported(lang: Language | None, ctx: Ctx) -> Language | None:
    return lang if lang in ctx.tenant.languages else None


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


def _first_contact(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """Greet in the lead's language: the script of what they typed, else Telegram's language."""
    typed = detect_script_language(event.text) if event.kind is EventKind.TEXT else None
    # A non-Latin script is a strong signal; "hi" or "ok" in Latin says less than Telegram's
    # language_code does.
    lang = (
        _supported(typed if typed is not Language.EN else None, ctx)
        or _supported(language_from_code(event.language_hint), ctx)
        or _supported(typed, ctx)
        or ctx.tenant.default_language
    )
    lead = replace(lead, language=lang, stage=Stage.GOAL, status=LeadStatus.QUALIFYING)
    welcome = t("welcome", lang, agency=ctx.tenant.name)
    question = _question(lead, ctx, prefix=welcome)
    if len(ctx.tenant.languages) > 1:
        switch = Choice(label=t("language.button", lang), value="lang:menu")
        question = replace(question, choices=(*question.choices, switch))
    return _say(lead, question)


def _language_menu(lang: Language, ctx: Ctx) -> Outbound:
    choices = tuple(
        Choice(label=t(f"language.name.{code.value}", lang), value=f"{LANGUAGE_PREFIX}{code.value}")
        for code in ctx.tenant.languages
    )
    return Outbound(text=t("language.ask", lang), choices=choices)


def _change_language(lead: Lead, code: str, ctx: Ctx) -> Decision:
    chosen = _supported(next((lang for lang in Language if lang.value == code), None), ctx)
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
        payload = event.payload if event.kind is EventKind.CHOICE else ""
        fields = question.read(event.text, payload, ctx.tenant, lang)
    else:
        return _reask(lead, ctx, "unsupported")
    if fields is None:
        return _reask(lead, ctx, f"{lead.stage.value}.hint")
    lead = replace(lead, **fields)
    lead = replace(lead, stage=next_stage(lead.stage, lead))
    budget = fields.get("budget")
    prefix = (
        t("budget.noted", lang, budget=format_money(budget)) if isinstance(budget, Money) else ""
    )
    return _say(lead, _question(lead, ctx, prefix=prefix))


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
    # Telegram cannot remove the share-phone keyboard and show link buttons in one message.
    offer = _catalog_offer(lead, ctx)
    return _say(
        lead,
        Outbound(text=thanks, remove_keyboard=True),
        *((offer,) if offer is not None else ()),
        events=(PhoneCaptured(lead_id=lead.lead_id),),
    )


def _engage(lead: Lead, event: InboundEvent, ctx: Ctx) -> Decision:
    """After qualifying: catalogs on request, otherwise an agent is on the way.

    There is no knowledge base to answer from yet, so a question is a knowledge gap the agency
    should hear of (the listings issue answers from brochures and records only what retrieval
    cannot answer).
    """
    lang = _lang(lead, ctx)
    if event.kind is EventKind.VOICE:
        return _say(lead, Outbound(text=t("voice.unsupported", lang)))
    if event.kind is EventKind.TEXT and asks_for_catalog(event.text):
        offer = _catalog_offer(lead, ctx)
        return _say(lead, offer or Outbound(text=t("catalog.unavailable", lang)))
    ack = Outbound(text=t("engagement.ack", lang))
    if event.kind is EventKind.TEXT and is_question(event.text):
        gap = KnowledgeGap(question=event.text.strip(), language=lang)
        return _say(lead, ack, events=(gap,))
    return _say(lead, ack)


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
