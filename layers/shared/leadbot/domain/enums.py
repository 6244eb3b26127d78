"""Named values of the domain, so that no bare strings travel between modules."""

from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    MANUAL = "manual"  # entered or imported by the agency; no chat with the bot yet


class Language(StrEnum):
    EN = "en"
    FA = "fa"
    AR = "ar"
    RU = "ru"


class FlowMode(StrEnum):
    """How a tenant's bot talks to a new lead (DESIGN.md §6)."""

    GUIDED = "guided"  # qualifying questions from the first message
    QA_FIRST = "qa_first"  # answer questions first, qualify after `Tenant.qa_first_after`


class FollowupStep(StrEnum):
    """A follow-up a tenant may word itself: the ghost reminder, then each campaign step."""

    GHOST = "ghost"
    CAMPAIGN_1 = "campaign_1"
    CAMPAIGN_2 = "campaign_2"
    CAMPAIGN_3 = "campaign_3"
    CAMPAIGN_4 = "campaign_4"
    CAMPAIGN_5 = "campaign_5"


class Stage(StrEnum):
    """Where a lead stands in the conversation (DESIGN.md §6); see conversation/stages.mmd."""

    LANGUAGE = "language"
    QA = "qa"  # qa_first: questions answered before the qualifying questions start
    GOAL = "goal"
    BUDGET = "budget"
    PROPERTY_TYPE = "property_type"
    LOCATION = "location"
    TIMELINE = "timeline"
    BEDROOMS = "bedrooms"
    PAYMENT = "payment"
    UNIT = "unit"  # qa_first's fourth question: the property type and/or bedrooms, in one answer
    CONTACT = "contact"
    ENGAGEMENT = "engagement"


class LeadStatus(StrEnum):
    """The sales pipeline, in order; the bot moves a lead to qualified, agents take it on."""

    NEW = "new"
    QUALIFYING = "qualifying"
    QUALIFIED = "qualified"
    BROKER_REQUESTED = "broker_requested"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    VIEWING_SCHEDULED = "viewing_scheduled"
    NEGOTIATING = "negotiating"
    WON = "won"
    LOST = "lost"


class Goal(StrEnum):
    BUY = "buy"
    RENT = "rent"
    INVEST = "invest"


class PropertyType(StrEnum):
    APARTMENT = "apartment"
    VILLA = "villa"
    TOWNHOUSE = "townhouse"
    PENTHOUSE = "penthouse"
    OFFICE = "office"
    LAND = "land"


class Timeline(StrEnum):
    NOW = "now"
    MONTHS_3 = "3m"
    MONTHS_6 = "6m"
    LATER = "later"


class Bedrooms(StrEnum):
    STUDIO = "studio"
    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR_PLUS = "4+"


class PaymentMethod(StrEnum):
    CASH = "cash"
    MORTGAGE = "mortgage"
    INSTALLMENTS = "installments"


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Temperature(StrEnum):
    """How ready a lead is, from its score (DESIGN.md §7); the dashboard sorts and badges by it."""

    BURNING = "burning"
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"

    @property
    def grade(self) -> Grade:
        return _GRADES[self]


_GRADES = {
    Temperature.BURNING: Grade.A,
    Temperature.HOT: Grade.B,
    Temperature.WARM: Grade.C,
    Temperature.COLD: Grade.D,
}


class EventKind(StrEnum):
    """What an inbound event is, whatever channel it came from (DESIGN.md §5)."""

    START = "start"
    TEXT = "text"
    CHOICE = "choice"
    CONTACT = "contact"
    VOICE = "voice"
    LOCATION = "location"
    STOP = "stop"
    LANGUAGE = "language"
    SET_ADMIN = "set_admin"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    UNSUPPORTED = "unsupported"
