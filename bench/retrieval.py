"""`make bench` section 9: brochure retrieval latency over 2,000 chunks, and what importing the
retrieval modules costs a cold start (and that the PDF and OpenAI libraries stay unimported)."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from leadbot.domain.knowledge import Chunk, ChunkKind

REPO = Path(__file__).resolve().parent.parent
CHUNKS = 2_000
ROUNDS = 5
IMPORT_RUNS = 15
RETRIEVAL_MODULES = (
    "leadbot.knowledge.retrieve",
    "leadbot.knowledge.answer",
    "leadbot.knowledge.cache",
)
BASELINE_MODULES = (
    "leadbot.domain.knowledge",
    "leadbot.domain.listings",
    "leadbot.integrations.llm",
    "leadbot.parsing.digits",
)
HEAVY = ("openai", "pypdf", "pdfplumber", "pdfminer", "reportlab", "PIL", "pypdfium2")

QUESTIONS = [
    "What's the price per sq.ft?",
    "Is there a payment plan?",
    "What's the possession date?",
    "RERA number?",
    "What is the rental yield?",
    "How much is the 2 bedroom apartment in Dubai Marina?",
    "Is it CLP or PLP?",
    "What's the service charge?",
    "How far is the metro station?",
    "Is there a gym and a pool?",
    "Who is the developer of Palm Gardens?",
    "Which kitchen appliances are included?",
    "قیمت هر متر مربع چقدر است؟",
    "زمان تحویل واحد کی است؟",
    "طرح پرداخت اقساطی دارید؟",
    "ما هو سعر القدم المربع؟",
    "متى موعد التسليم؟",
    "هل يوجد خطة دفع؟",
    "Сколько стоит квартира с двумя спальнями?",
    "Есть ли рассрочка?",
    "Какая доходность от аренды?",
    "Do you allow pets on the balcony?",
    "What's the weather like in July?",
]

_PROJECTS = [
    "Marina Residences", "Palm Gardens", "Creek Vista", "Downtown Heights", "Bay Square",
    "Hills Park", "Azure Bay", "Crest Gardens", "Harbour Lights", "Sobha One",
]  # fmt: skip
_AREAS = ["Dubai Marina", "Palm Jumeirah", "Dubai Creek Harbour", "Downtown Dubai", "Business Bay"]
_TEXT = [
    "{p} is a {n}-storey tower of {h} homes in {a}, with floor-to-ceiling windows and deep "
    "balconies facing the sea. Residents enter through a double-height lobby.",
    "{p} stands a short walk from the metro and the beach; Sheikh Zayed Road is {m} minutes "
    "away and the airport {m2} minutes by car. Schools and a hospital are nearby.",
    "Amenities include an infinity pool, a fully equipped gym, a spa, a kids' play area, "
    "barbecue terraces and a jogging track, all included in the service charge.",
    "Kitchens come with quartz worktops and Bosch appliances; floors are Italian porcelain and "
    "bathrooms have Grohe fittings. Homes are delivered fully finished.",
    "{p} is developed by {d}, founded in {y}, which has delivered {t} towers on time.",
    "Construction is {c}% complete and the structure topped out in {mo}; progress photos are "
    "published every month to buyers.",
    "Buyers can verify the project on the Dubai REST app; all payments go to the escrow account "
    "as Dubai law requires for off-plan sales.",
    "A two-bedroom apartment in {a} rents for about AED {r},000 a year, a gross yield of "
    "{yi}%; after the service charge the net yield is about {yn}%.",
    "{p} — موقعیت عالی در {a} با دسترسی سریع به مترو و ساحل، استخر و باشگاه ورزشی.",
    "{p} — مشروع سكني في {a} مع مسبح وصالة رياضية وخطة دفع مرنة.",
    "{p} — жилой комплекс в районе {a}: бассейн, спортзал, рассрочка и вид на море.",
]
_ROWS = [
    "Unit: {u} | Type: {b}BR | Floor: {f} | Price: AED {pr:,} | Price per sq.ft: AED {ps:,}",
    "Milestone: {k} instalment | Payment: {pc}% | Due: On completion of stage {k}",
    "Unit type: Type {b}A | Configuration: {b} bedrooms | Total area: {sz:,} sq.ft",
]
_FACTS = [
    ("price", "The residence {u} is priced at AED {pr:,}.", "AED {pr:,}"),
    ("price_per_sqft", "That is AED {ps:,} per sq.ft.", "AED {ps:,} per sq.ft"),
    ("possession", "Expected handover: Q{q} {yr}.", "Q{q} {yr}"),
    ("rera", "Registered under RERA project number {rera}.", "{rera}"),
    (
        "payment_plan",
        "Sold on a {pp}/{pq} construction-linked payment plan (CLP).",
        "{pp}/{pq} CLP",
    ),
    ("rental_yield", "A gross rental yield of {yi}%.", "{yi}%"),
    ("service_charge", "Service charge of AED {sc} per sq.ft a year.", "AED {sc} per sq.ft"),
    ("size", "Total area: {sz:,} sq.ft", "{sz:,} sq.ft"),
]


def synthetic_chunks(count: int = CHUNKS, seed: int = 7) -> list[Chunk]:
    """`count` chunks of brochures like the sample one: 40 brochures of ~50 chunks each, facts,
    table rows and passages of text in the proportions extraction produces, some in fa/ar/ru."""
    rng = random.Random(seed)
    chunks: list[Chunk] = []
    brochure = 0
    while len(chunks) < count:
        brochure += 1
        project = f"{rng.choice(_PROJECTS)} {brochure}"
        for n in range(50):
            page = 1 + n // 4
            values = {
                "p": project, "a": rng.choice(_AREAS), "n": rng.randint(20, 80),
                "h": rng.randint(80, 600), "m": rng.randint(2, 15), "m2": rng.randint(15, 45),
                "d": f"Developer {rng.randint(1, 90)}", "y": rng.randint(1990, 2020),
                "t": rng.randint(3, 40), "c": rng.randint(10, 95), "mo": "October 2025",
                "r": rng.randint(90, 400), "yi": round(rng.uniform(5, 9), 1),
                "yn": round(rng.uniform(4, 7), 1),
                "u": f"{rng.randint(1, 4)}A-{rng.randint(100, 4000)}",
                "b": rng.randint(1, 4), "f": rng.randint(2, 60), "pr": rng.randint(8, 90) * 100_000,
                "ps": rng.randint(1200, 3500), "k": rng.randint(1, 6),
                "pc": rng.choice([5, 10, 15, 20]),
                "sz": rng.randint(500, 4000), "q": rng.randint(1, 4), "yr": rng.randint(2026, 2029),
                "rera": rng.randint(1000, 9999), "pp": 60, "pq": 40, "sc": rng.randint(12, 30),
            }  # fmt: skip
            roll = rng.random()
            fact_name: str | None = None
            fact_value: str | None = None
            if roll < 0.3:
                fact, text, value = rng.choice(_FACTS)
                kind, text, fact_name, fact_value = (
                    ChunkKind.FACT, text.format(**values), fact, value.format(**values)
                )  # fmt: skip
            elif roll < 0.55:
                kind, text = ChunkKind.TABLE, rng.choice(_ROWS).format(**values)
            else:
                kind = ChunkKind.TEXT
                text = " ".join(
                    rng.choice(_TEXT).format(**values) for _ in range(rng.randint(2, 4))
                )
                fact_name = fact_value = None
            chunks.append(
                Chunk(
                    tenant_id="bench",
                    brochure_id=f"01KE6P4YM0VS00000000BR{brochure:04d}",
                    chunk_id=f"p{page:03d}-{kind.value}-{n:02d}",
                    property_id=f"01KE6P4YM0VS00000000PR{brochure:04d}",
                    title=f"{project} brochure",
                    kind=kind,
                    page=page,
                    text=text,
                    fact=fact_name,
                    value=fact_value,
                )
            )
            if len(chunks) == count:
                break
    return chunks


def latency(chunks: list[Chunk]) -> dict[str, float]:
    from leadbot.knowledge.bm25 import Index
    from leadbot.knowledge.expand import expand
    from leadbot.knowledge.retrieve import retrieve

    started = time.perf_counter()
    index = Index.build(chunks)
    build_ms = (time.perf_counter() - started) * 1000
    durations = []
    found = 0
    for _ in range(ROUNDS):
        for question in QUESTIONS:
            expand.cache_clear()  # every lead's question is new: expansion is timed too
            started = time.perf_counter()
            passages = retrieve(question, index)
            durations.append((time.perf_counter() - started) * 1000)
            found += bool(passages)
    durations.sort()
    return {
        "build_ms": build_ms,
        "queries": len(durations),
        "answered": found / ROUNDS,
        "p50_ms": statistics.median(durations),
        "p95_ms": durations[int(len(durations) * 0.95) - 1],
        "max_ms": durations[-1],
    }


_PROBE = """
import json, sys, time
started = time.perf_counter()
for name in {modules!r}:
    __import__(name)
elapsed = (time.perf_counter() - started) * 1000
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps({{"import_ms": elapsed, "heavy": heavy, "modules": len(sys.modules)}}))
"""


@dataclass(frozen=True)
class ImportCost:
    median_ms: float  # the retrieval modules, leadbot.domain included, in a fresh process
    baseline_ms: float  # only what they import from the rest of leadbot (the webhook has it)
    heavy: list[str]  # heavy libraries that came along (should be none)
    cumulative_ms: dict[str, float]  # -X importtime, per leadbot.knowledge module


def import_cost(python: str = sys.executable) -> ImportCost:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'layers/shared'}"}
    probe = _PROBE.format(modules=RETRIEVAL_MODULES, heavy=HEAVY)
    baseline = _PROBE.format(modules=BASELINE_MODULES, heavy=HEAVY)
    runs: list[dict[str, object]] = []
    floors: list[dict[str, object]] = []
    for _ in range(IMPORT_RUNS + 1):  # interleaved, so load on the machine hits both alike
        for script, into in ((probe, runs), (baseline, floors)):
            out = subprocess.run(
                [python, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            into.append(json.loads(out.stdout))
    runs, floors = runs[1:], floors[1:]  # the first only warms the file cache
    importtime = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {', '.join(RETRIEVAL_MODULES)}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    own = {}
    for line in importtime.splitlines():
        # "import time:   self [us] | cumulative | imported package"
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].startswith("leadbot.knowledge"):
            own[parts[2]] = int(parts[1]) / 1000
    return ImportCost(
        median_ms=statistics.median(float(str(r["import_ms"])) for r in runs),
        baseline_ms=statistics.median(float(str(r["import_ms"])) for r in floors),
        heavy=sorted({str(m) for r in runs for m in r["heavy"]}),  # type: ignore[attr-defined]
        cumulative_ms=own,
    )


def report_retrieval(say: Callable[[str], None] = print) -> None:
    say(f"\n9. Brochure retrieval over {CHUNKS:,} chunks (40 brochures; target p95 ≤ 20 ms)")
    result = latency(synthetic_chunks())
    say(
        f"   index built in {result['build_ms']:.0f} ms; {result['queries']:.0f} questions "
        f"(en, fa, ar, ru; {result['answered']:.0f} of {len(QUESTIONS)} with passages): "
        f"p50 {result['p50_ms']:.2f} ms   p95 {result['p95_ms']:.2f} ms   "
        f"max {result['max_ms']:.2f} ms"
    )
    cost = import_cost()
    modules = ", ".join(m.rsplit(".", 1)[1] for m in RETRIEVAL_MODULES)
    say(
        f"   cold import of knowledge.{{{modules}}}: {cost.median_ms:.0f} ms, of which "
        f"{cost.median_ms - cost.baseline_ms:.0f} ms their own (the domain, llm interface and "
        f"digits they import: {cost.baseline_ms:.0f} ms); median of {IMPORT_RUNS} fresh "
        f"processes. Of {', '.join(HEAVY)} imported: {', '.join(cost.heavy) or 'none'}"
    )
    detail = ", ".join(
        f"{name.rsplit('.', 1)[1]} {ms:.1f}" for name, ms in sorted(cost.cumulative_ms.items())
    )
    say(f"   -X importtime, cumulative ms: {detail}")


if __name__ == "__main__":
    report_retrieval()
