"""What a lead's answers add up to: the four-question qualification score and urgency; pure.

Kept apart from matching, which needs the listings' types: every step computes these, and the
webhook's cold start does not import listings.
"""

from __future__ import annotations

from leadbot.domain import Lead, Timeline

# Urgency, 0-10: how soon the lead means to move, plus the scarcity they were truthfully shown.
TIMELINE_URGENCY = {Timeline.NOW: 5, Timeline.MONTHS_3: 3, Timeline.MONTHS_6: 1, Timeline.LATER: 0}
SCARCITY_URGENCY_EACH = 2  # per scarcity message sent
SCARCITY_URGENCY_MAX = 5


def urgency_score(timeline: Timeline | None, fomo_messages_sent: int) -> int:
    """0-10: timeline now 5, 1-3 months 3, 3-6 months 1, later or unknown 0; plus 2 for each
    scarcity message the lead was shown, at most 5."""
    scarcity = min(SCARCITY_URGENCY_MAX, SCARCITY_URGENCY_EACH * fomo_messages_sent)
    timely = TIMELINE_URGENCY.get(timeline, 0) if timeline is not None else 0
    return min(10, timely + scarcity)


# The four answers qa_first asks for, also counted in the guided flow: unit is a property type
# or a bedroom count.
def qualification_score(lead: Lead) -> int:
    """0-4: how many of budget, area, timeline and unit the lead has answered."""
    return sum(
        (
            lead.budget is not None,
            bool(lead.location and lead.location.strip()),
            lead.timeline is not None,
            lead.property_type is not None or lead.bedrooms is not None,
        )
    )
