"""The parts of Telegram's Update (https://core.telegram.org/bots/api#update) the bot reads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class User(_Model):
    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Chat(_Model):
    id: int
    type: str


class Contact(_Model):
    phone_number: str
    first_name: str = ""
    user_id: int | None = None


class Location(_Model):
    latitude: float
    longitude: float


class Voice(_Model):
    file_id: str
    duration: int = 0


class Message(_Model):
    message_id: int
    date: int
    chat: Chat
    from_: User | None = Field(default=None, alias="from")
    text: str | None = None
    caption: str | None = None
    contact: Contact | None = None
    location: Location | None = None
    voice: Voice | None = None
    audio: Voice | None = None


class CallbackQuery(_Model):
    id: str
    from_: User = Field(alias="from")
    message: Message | None = None
    data: str | None = None


class ChatMember(_Model):
    status: str


class ChatMemberUpdated(_Model):
    chat: Chat
    from_: User = Field(alias="from")
    date: int
    new_chat_member: ChatMember


class Update(_Model):
    update_id: int
    message: Message | None = None
    edited_message: Message | None = None
    callback_query: CallbackQuery | None = None
    my_chat_member: ChatMemberUpdated | None = None
