"""WhatsApp Cloud API: webhook body parsing and signatures, normalisation, rendering, client."""

from leadbot.channels.whatsapp.client import (
    OutsideWindow,
    WhatsAppClient,
    can_send_free_text,
    require_window,
)
from leadbot.channels.whatsapp.models import Body, ValidationError, parse_body
from leadbot.channels.whatsapp.normalize import (
    Received,
    StatusUpdate,
    Unrouted,
    phone_number_ids,
    to_inbound,
    to_items,
)
from leadbot.channels.whatsapp.render import choice_for_number, render
from leadbot.channels.whatsapp.signature import valid_signature, verification_challenge

__all__ = [
    "Body",
    "OutsideWindow",
    "Received",
    "StatusUpdate",
    "Unrouted",
    "ValidationError",
    "WhatsAppClient",
    "can_send_free_text",
    "choice_for_number",
    "parse_body",
    "phone_number_ids",
    "render",
    "require_window",
    "to_inbound",
    "to_items",
    "valid_signature",
    "verification_challenge",
]
