"""The parts of a WhatsApp Cloud API webhook body the bot reads.

Meta posts `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {...}}]}]}`; a value carries the business number (`metadata`), the
senders (`contacts`), their `messages` and the fate of ours (`statuses`), any of which may be
absent. As for Telegram (see channels/telegram/models.py), the TypedDicts below are the one
description and pydantic-core validates against a schema built from them: pydantic's model
classes would cost the webhook's cold start ~110 ms for the same validation. Unknown fields
are ignored and nearly everything is optional, as Meta adds types and fields without notice.
"""

import types
from functools import cache
from typing import Any, NotRequired, TypedDict, Union, cast, get_args, get_origin, get_type_hints

from pydantic_core import SchemaValidator, ValidationError, core_schema

__all__ = ["Body", "ValidationError", "parse_body"]


class Profile(TypedDict):
    name: NotRequired[str]


class Contact(TypedDict):
    wa_id: NotRequired[str]
    profile: NotRequired[Profile]


class Metadata(TypedDict):
    phone_number_id: str
    display_phone_number: NotRequired[str]


class Text(TypedDict):
    body: str


class Reply(TypedDict):
    """An interactive `button_reply` or `list_reply`: the id we sent and the title shown."""

    id: str
    title: NotRequired[str]
    description: NotRequired[str]


class Interactive(TypedDict):
    type: str
    button_reply: NotRequired[Reply]
    list_reply: NotRequired[Reply]


class Button(TypedDict):
    """A template's quick-reply button pressed (the legacy `button` type)."""

    text: NotRequired[str]
    payload: NotRequired[str]


class Media(TypedDict):
    id: NotRequired[str]
    mime_type: NotRequired[str]
    caption: NotRequired[str]
    voice: NotRequired[bool]


class Location(TypedDict):
    latitude: float
    longitude: float
    name: NotRequired[str]
    address: NotRequired[str]


class Phone(TypedDict):
    phone: NotRequired[str]
    wa_id: NotRequired[str]
    type: NotRequired[str]


class SharedContact(TypedDict):
    phones: NotRequired[list[Phone]]


class Reaction(TypedDict):
    message_id: NotRequired[str]
    emoji: NotRequired[str]


class System(TypedDict):
    type: NotRequired[str]
    body: NotRequired[str]
    wa_id: NotRequired[str]
    new_wa_id: NotRequired[str]


class ErrorData(TypedDict):
    details: NotRequired[str]


class Error(TypedDict):
    code: int
    title: NotRequired[str]
    message: NotRequired[str]
    error_data: NotRequired[ErrorData]


# "from" is a Python keyword, hence the functional form.
Message = TypedDict(
    "Message",
    {
        "from": str,
        "id": str,
        "timestamp": str | int,
        "type": str,
        "text": NotRequired[Text],
        "interactive": NotRequired[Interactive],
        "button": NotRequired[Button],
        "audio": NotRequired[Media],
        "voice": NotRequired[Media],
        "image": NotRequired[Media],
        "video": NotRequired[Media],
        "document": NotRequired[Media],
        "sticker": NotRequired[Media],
        "location": NotRequired[Location],
        "contacts": NotRequired[list[SharedContact]],
        "reaction": NotRequired[Reaction],
        "system": NotRequired[System],
        "errors": NotRequired[list[Error]],
    },
)


class Status(TypedDict):
    """What became of a message we sent: sent, delivered, read or failed (with `errors`)."""

    id: str
    status: str
    timestamp: str | int
    recipient_id: NotRequired[str]
    errors: NotRequired[list[Error]]


class Value(TypedDict):
    # Absent from changes that are not about messages (template reviews, account updates).
    metadata: NotRequired[Metadata]
    contacts: NotRequired[list[Contact]]
    messages: NotRequired[list[Message]]
    statuses: NotRequired[list[Status]]


class Change(TypedDict):
    field: NotRequired[str]
    value: Value


class Entry(TypedDict):
    id: NotRequired[str]
    changes: NotRequired[list[Change]]


class Body(TypedDict):
    object: str
    entry: NotRequired[list[Entry]]


def parse_body(raw: str | bytes) -> Body:
    """A validated webhook body; pydantic_core.ValidationError if it is not one."""
    return cast(Body, _validator().validate_json(raw))


@cache
def _validator() -> SchemaValidator:
    return SchemaValidator(_schema(Body))


_SCALARS: dict[Any, core_schema.CoreSchema] = {
    # Strict: a number where Meta sends a string (or the reverse) picks the right union arm.
    int: core_schema.int_schema(strict=True),
    float: core_schema.float_schema(),
    str: core_schema.str_schema(strict=True),
    bool: core_schema.bool_schema(),
}


def _schema(annotation: Any) -> core_schema.CoreSchema:
    """The pydantic-core schema of a scalar, a list, a union or a TypedDict of those."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return core_schema.list_schema(_schema(item))
    if get_origin(annotation) in (Union, types.UnionType):
        arms = [arg for arg in get_args(annotation) if arg is not type(None)]
        inner = (
            _schema(arms[0])
            if len(arms) == 1
            else core_schema.union_schema([_schema(arm) for arm in arms])
        )
        optional = len(arms) < len(get_args(annotation))
        return core_schema.nullable_schema(inner) if optional else inner
    hints = get_type_hints(annotation, globalns=globals())
    required = annotation.__required_keys__
    fields = {
        name: core_schema.typed_dict_field(_schema(hint), required=name in required)
        for name, hint in hints.items()
    }
    return core_schema.typed_dict_schema(fields, extra_behavior="ignore")
