"""The parts of Telegram's Update (https://core.telegram.org/bots/api#update) the bot reads.

The TypedDicts below are the one description of an Update; `parse_update` validates a body
against them with pydantic-core, the validation engine under pydantic, built straight from
these types. pydantic's model classes would add ~110 ms to every cold start (the webhook's
first reply) for the same validation. Unknown fields are ignored, as Telegram adds new ones.
"""

import types
from functools import cache
from typing import Any, NotRequired, TypedDict, Union, cast, get_args, get_origin, get_type_hints

from pydantic_core import SchemaValidator, ValidationError, core_schema

__all__ = ["Update", "ValidationError", "parse_update"]


class User(TypedDict):
    id: int
    is_bot: NotRequired[bool]
    first_name: NotRequired[str]
    last_name: NotRequired[str]
    username: NotRequired[str]
    language_code: NotRequired[str | None]


class Chat(TypedDict):
    id: int
    type: str


class Contact(TypedDict):
    phone_number: str
    first_name: NotRequired[str]
    user_id: NotRequired[int | None]


class Location(TypedDict):
    latitude: float
    longitude: float


class Voice(TypedDict):
    """A voice note, or an audio file (music): the same fields the bot needs of both."""

    file_id: str
    duration: NotRequired[int]
    mime_type: NotRequired[str]
    file_size: NotRequired[int]


# "from" is a Python keyword, hence the functional form for the types that carry it.
Message = TypedDict(
    "Message",
    {
        "message_id": int,
        "date": int,
        "chat": Chat,
        "from": NotRequired[User],
        "text": NotRequired[str],
        "caption": NotRequired[str],
        "contact": NotRequired[Contact],
        "location": NotRequired[Location],
        "voice": NotRequired[Voice],
        "audio": NotRequired[Voice],
    },
)

CallbackQuery = TypedDict(
    "CallbackQuery",
    {"id": str, "from": User, "message": NotRequired[Message], "data": NotRequired[str]},
)


class ChatMember(TypedDict):
    status: str


ChatMemberUpdated = TypedDict(
    "ChatMemberUpdated",
    {"chat": Chat, "from": User, "date": int, "new_chat_member": ChatMember},
)


class Update(TypedDict):
    update_id: int
    message: NotRequired[Message]
    edited_message: NotRequired[Message]
    callback_query: NotRequired[CallbackQuery]
    my_chat_member: NotRequired[ChatMemberUpdated]


def parse_update(raw: str | bytes) -> Update:
    """A validated Update from a webhook body; pydantic_core.ValidationError if it is not one."""
    return cast(Update, _validator().validate_json(raw))


@cache
def _validator() -> SchemaValidator:
    return SchemaValidator(_schema(Update))


_SCALARS: dict[Any, core_schema.CoreSchema] = {
    int: core_schema.int_schema(),
    float: core_schema.float_schema(),
    str: core_schema.str_schema(),
    bool: core_schema.bool_schema(),
}


def _schema(annotation: Any) -> core_schema.CoreSchema:
    """The pydantic-core schema of a scalar, an optional, or a TypedDict of those."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return core_schema.nullable_schema(_schema(inner))
    hints = get_type_hints(annotation, globalns=globals())
    required = annotation.__required_keys__
    fields = {
        name: core_schema.typed_dict_field(_schema(hint), required=name in required)
        for name, hint in hints.items()
    }
    return core_schema.typed_dict_schema(fields, extra_behavior="ignore")
