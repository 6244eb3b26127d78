"""Answers to leads' questions from the agency's brochures and listings: retrieval, then a
grounded answer when a language model is configured, else (or when it fails) an extractive one.

The tenant's index is built once per warm Lambda and rebuilt only when its listings or their
brochures change (knowledge.cache). Only the lead's own words leave for the model, and only
after personal data is redacted; the passages are the agency's published brochure text.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from leadbot.config import settings
from leadbot.domain import Language, Tenant
from leadbot.domain.knowledge import Answer
from leadbot.services.inbound import Answerer
from leadbot.services.runtime import Repositories, brochure_indexes, chat_model

if TYPE_CHECKING:
    from leadbot.integrations.llm import ChatModel

log = logging.getLogger("leadbot")


def answer_question(
    repos: Repositories,
    tenant: Tenant,
    question: str,
    language: Language,
    *,
    model: ChatModel | None = None,
    timeout_s: float = 6.0,
) -> Answer | None:
    """The answer to `question` from what the agency published, with its sources; None when
    nothing relevant is known (the conversation says so and records a knowledge gap)."""
    # Retrieval loads with the first question, never on a webhook's cold start.
    from leadbot.integrations.llm import log_usage
    from leadbot.knowledge.answer import extractive_answer, grounded_answer
    from leadbot.knowledge.bm25 import Index
    from leadbot.knowledge.cache import fingerprint
    from leadbot.knowledge.retrieve import retrieve
    from leadbot.parsing.pii import redact, scrub

    tenant_id = tenant.tenant_id
    listings = repos.active_listings.get(tenant_id)
    brochure_ids = [b for listing in listings for b in listing.brochure_ids]
    index = brochure_indexes().get(
        tenant_id,
        fingerprint(brochure_ids, listings),
        lambda: Index.build(repos.knowledge.chunks(tenant_id, brochure_ids)),
    )
    # A phone number or an email in the question is no word of any brochure.
    passages = retrieve(scrub(question), index, listings)
    if not passages:
        return None
    if model is None:
        return extractive_answer(question, passages)
    grounded = grounded_answer(redact(question), passages, model, timeout_s, language=language)
    if grounded.completion is not None:
        log_usage(grounded.completion, "answer", tenant_id=tenant_id, fell_back=grounded.fell_back)
    elif grounded.fell_back:
        log.warning("answer model failed; answered offline", extra={"tenant_id": tenant_id})
    return grounded.answer


def answerer(repos: Repositories) -> Answerer:
    """The conversation's `Answerer` (services.inbound): the deployment's model when an OpenAI
    key is configured (made on the first question), else offline."""

    def answer(tenant: Tenant, question: str, language: Language) -> Answer | None:
        timeout_s = settings().openai_timeout_s
        return answer_question(
            repos, tenant, question, language, model=chat_model(), timeout_s=timeout_s
        )

    return answer
