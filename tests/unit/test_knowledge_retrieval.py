"""Brochure retrieval: expansion in every catalog language, tokens of every script, BM25, the
facts-first order, the listings fallback and "nothing relevant" → nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadbot.domain.enums import Bedrooms, PropertyType
from leadbot.domain.knowledge import Chunk, ChunkKind
from leadbot.domain.listings import ListingStatus, Property, Transaction
from leadbot.domain.models import Money
from leadbot.knowledge.bm25 import Bm25, Index
from leadbot.knowledge.expand import expand, index_terms
from leadbot.knowledge.retrieve import PassageKind, retrieve
from leadbot.knowledge.text import normalize, tokens, words

BROCHURE = "01KE6P4YM0VS0000000000BR01"


def chunk(page: int, kind: ChunkKind, text: str, n: int = 1, **fact: str) -> Chunk:
    return Chunk(
        tenant_id="demo",
        brochure_id=BROCHURE,
        chunk_id=f"p{page:03d}-{kind.value}-{n:02d}",
        property_id="01KE6P4YM0VS00000000000001",
        title="Marina Residences brochure",
        kind=kind,
        page=page,
        text=text,
        fact=fact.get("fact"),
        value=fact.get("value"),
    )


FACT, TABLE, TEXT = ChunkKind.FACT, ChunkKind.TABLE, ChunkKind.TEXT
CHUNKS = [
    chunk(1, TEXT, "Marina Residences is a 42-storey tower of 180 homes in Dubai Marina."),
    chunk(2, TEXT, "Dubai Marina Metro Station is 5 minutes on foot; DXB airport 35 minutes."),
    chunk(3, TEXT, "Amenities: an infinity pool, a fitness centre with a gym, a spa and sauna."),
    chunk(4, FACT, "Size: 1,250 sq.ft", fact="size", value="1,250 sq.ft"),
    chunk(4, FACT, "Configuration: 2 bedrooms", 2, fact="configuration", value="2 BHK"),
    chunk(5, FACT, "Price: AED 2,450,000", fact="price", value="AED 2,450,000"),
    chunk(5, FACT, "AED 1,960 per sq.ft", 2, fact="price_per_sqft", value="AED 1,960 per sq.ft"),
    chunk(5, TABLE, "Unit: 2BR sea view | Size: 1,250 sq.ft | Price: AED 2,450,000"),
    chunk(6, FACT, "Payment plan: 60/40", fact="payment_plan", value="60/40"),
    chunk(6, TABLE, "Milestone: On booking | Payment: 10%", 1),
    chunk(6, TABLE, "Milestone: 50% construction | Payment: 20%", 2),
    chunk(6, TABLE, "Milestone: On handover | Payment: 40%", 3),
    chunk(
        6,
        TEXT,
        "The 60/40 construction-linked payment plan spreads instalments over the build. "
        "No interest is charged.",
    ),
    chunk(7, FACT, "Handover: Q4 2026", fact="possession", value="Q4 2026"),
    chunk(7, TEXT, "Construction is 45% complete. Handover of keys is planned for Q4 2026."),
    chunk(8, FACT, "RERA project number: 2145", fact="rera", value="2145"),
    chunk(9, FACT, "Expected gross rental yield 7.2%", fact="rental_yield", value="7.2%"),
    chunk(9, TEXT, "Dubai Marina rents stay high; investors see a return of about 7% a year."),
    chunk(10, TEXT, "The developer, Demo Developments, has delivered 12 towers since 2004."),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.build(CHUNKS)


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def listing(
    n: int, title: str, location: str, kind: PropertyType, price: int, **kw: object
) -> Property:
    return Property(
        tenant_id="demo",
        property_id=f"01KE6P4YM0VS000000000000{n:02d}",
        title=title,
        location=location,
        property_type=kind,
        transaction=Transaction.SALE,
        price=Money(amount=Decimal(price), currency="AED"),
        units_available=kw.pop("units", 5),  # type: ignore[arg-type]
        created_at=NOW,
        updated_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


LISTINGS = (
    listing(
        1,
        "Marina Residences",
        "Dubai Marina",
        PropertyType.APARTMENT,
        2_450_000,
        bedrooms=Bedrooms.TWO,
        size_sqft=Decimal(1250),
    ),
    listing(
        2,
        "Palm Villa",
        "Palm Jumeirah",
        PropertyType.VILLA,
        12_500_000,
        bedrooms=Bedrooms.FOUR_PLUS,
        size_sqft=Decimal(6000),
        units=2,
        description="Beachfront villa with a private pool.",
    ),
    listing(3, "Downtown Studio", "Downtown Dubai", PropertyType.APARTMENT, 85_000),
)


# -- tokens of every script --------------------------------------------------------------


def test_normalize_folds_arabic_and_persian_letter_variants_digits_and_case() -> None:
    # Arabic yeh, kaf and teh marbuta; Persian digits; harakat; tatweel; ZWNJ.
    assert normalize("قيمة") == normalize("قیمه")
    assert normalize("كم") == "کم"
    assert normalize("۲٬۴۵۰٬۰۰۰ درهم") == "2450000 درهم"
    assert normalize("سَعْر") == "سعر"
    assert normalize("مـــساحة") == normalize("مساحه")
    assert normalize("AED 2,450,000") == "aed 2450000"
    assert normalize("Ёлка") == "елка"
    assert words("واحد‌ها") == ["واحد", "ها"]


def test_tokens_split_latin_cyrillic_and_arabic_script_and_numbers() -> None:
    assert words("3BHK, Q4 2026!") == ["3", "bhk", "q", "4", "2026"]
    assert words("Цена: 2,5 млн") == ["цена", "2.5", "млн"]
    assert words("السعر ٢٫٥ مليون") == ["السعر", "2.5", "ملیون"]
    assert words("قیمت ۳ خوابه؟") == ["قیمت", "3", "خوابه"]
    assert words("7.2% yield") == ["7.2", "yield"]
    # Inflected forms meet at one stem.
    assert tokens("рассрочка")[0] == tokens("рассрочку")[0] == tokens("рассрочки")[0]
    assert tokens("bedrooms") == tokens("bedroom")
    assert tokens("السعر") == tokens("سعر")


# -- query expansion: each family, each language ------------------------------------------

FAMILIES = {
    "roi": {
        "en": ["What's the ROI?", "rental yield?", "what return can I expect"],
        "fa": ["بازده سرمایه چقدر است؟", "بازگشت سرمایه"],
        "ar": ["ما هو العائد على الاستثمار؟", "كم العائد الإيجاري"],
        "ru": ["Какая доходность?", "окупаемость квартиры"],
    },
    "payment_plan": {
        "en": ["is there a payment plan?", "instalments?", "CLP or PLP?"],
        "fa": ["طرح پرداخت دارید؟", "اقساطی هست؟"],
        "ar": ["هل يوجد خطة دفع؟", "هل يوجد تقسيط؟"],
        "ru": ["Есть ли рассрочка?", "какой план оплаты"],
    },
    "clp": {
        "en": ["construction-linked plan?", "CLP"],
        "fa": ["پرداخت در طول ساخت"],
        "ar": ["الدفع أثناء البناء"],
        "ru": ["оплата во время строительства"],
    },
    "plp": {
        "en": ["possession-linked plan?", "post handover plan", "PLP"],
        "fa": ["پرداخت بعد از تحویل"],
        "ar": ["الدفع بعد التسليم"],
        "ru": ["оплата после сдачи"],
    },
    "registration": {
        "en": ["RERA number?", "is it registered", "permit?"],
        "fa": ["شماره مجوز چیست؟", "ثبت شده؟"],
        "ar": ["ما هو رقم التصريح؟", "رقم ريرا"],
        "ru": ["номер разрешения РЕРА?", "есть регистрация?"],
    },
    "bedrooms": {
        "en": ["how many bedrooms?", "3 BHK?", "what configurations"],
        "fa": ["چند خوابه است؟", "اتاق خواب"],
        "ar": ["كم غرفة نوم؟", "ما هي المخططات"],
        "ru": ["сколько спален?", "какая планировка"],
    },
    "size": {
        "en": ["what's the size?", "how big is it", "how many sq.ft"],
        "fa": ["متراژ چقدر است؟", "مساحت واحد"],
        "ar": ["ما هي المساحة؟", "كم متر مربع"],
        "ru": ["какая площадь?", "сколько квадратных метров"],
    },
    "price_per_area": {
        "en": ["price per sq.ft?", "what's the psf", "cost per square metre"],
        "fa": ["قیمت هر متر مربع چقدر است؟", "متری چند است"],
        "ar": ["ما هو سعر القدم المربع؟", "كم السعر للمتر المربع"],
        "ru": ["цена за квадратный метр?", "сколько стоит квадратный метр"],
    },
    "price": {
        "en": ["what's the price?", "how much is it", "cost?", "is it 2.5 crore"],
        "fa": ["قیمت چند است؟", "چقدر هزینه دارد", "۲ میلیارد"],
        "ar": ["كم السعر؟", "بكم الشقة", "ما هي التكلفة"],
        "ru": ["сколько стоит?", "какая цена", "стоимость в млн"],
    },
    "handover": {
        "en": ["what's the possession date?", "when is handover", "completion date?"],
        "fa": ["زمان تحویل کی است؟", "کی آماده میشه"],
        "ar": ["متى موعد التسليم؟", "متى الاستلام"],
        "ru": ["когда сдача?", "срок сдачи дома"],
    },
    "amenities": {
        "en": ["what amenities are there?", "is there a gym", "swimming pool?"],
        "fa": ["امکانات رفاهی چیست؟", "استخر دارد؟"],
        "ar": ["ما هي المرافق؟", "هل يوجد مسبح"],
        "ru": ["какие удобства?", "есть бассейн?"],
    },
    "location": {
        "en": ["where is it located?", "how far is the metro", "connectivity?"],
        "fa": ["موقعیت کجاست؟", "به مترو نزدیک است؟"],
        "ar": ["ما هو الموقع؟", "هل هو قريب من المترو"],
        "ru": ["где находится?", "далеко ли до метро"],
    },
    "developer": {
        "en": ["who is the developer?", "developed by whom"],
        "fa": ["سازنده کیست؟", "شرکت سازنده"],
        "ar": ["من هو المطور؟", "الشركة المطورة"],
        "ru": ["кто застройщик?", "какой девелопер"],
    },
}


@pytest.mark.parametrize(
    ("concept", "language", "question"),
    [
        (concept, language, question)
        for concept, by_language in FAMILIES.items()
        for language, questions in by_language.items()
        for question in questions
    ],
)
def test_expansion_finds_each_family_in_each_language(
    concept: str, language: str, question: str
) -> None:
    assert concept in expand(question).concepts, (language, expand(question))


def test_expansion_keeps_unrelated_questions_free_of_concepts() -> None:
    assert expand("do you allow pets?").concepts == frozenset()
    assert expand("Какая сегодня погода?").concepts == frozenset()
    assert expand("hello, thanks!").slots == ()


def test_amounts_in_crore_lakh_and_million_become_one_number() -> None:
    for question, amount in [
        ("is it 2.45 million?", "2450000"),
        ("budget 24.5 lakh", "2450000"),
        ("1.2 crore", "12000000"),
        ("۲٫۴۵ میلیون درهم", "2450000"),
        ("2,45 млн", "2450000"),
        ("2.45 مليون", "2450000"),
    ]:
        assert any(amount in slot.terms for slot in expand(question).slots), question
    assert "2450000" in index_terms("AED 2,450,000")
    assert "120" in index_terms("120 m2") and "120000000" not in index_terms("120 m2")


def test_a_concept_asked_twice_is_one_slot() -> None:
    query = expand("how much is the price per sq.ft?")
    assert sum("#price" in slot.terms for slot in query.slots) == 1


# -- BM25 ----------------------------------------------------------------------------------


def test_bm25_ranks_the_rarer_and_more_frequent_term_higher() -> None:
    documents = [
        "marble oak walnut",
        "marble marble granite",
        "granite lobby brass glass steel copper marble",
        "terrace",
    ]
    bm25 = Bm25([index_terms(d) for d in documents])
    hits = bm25.search(expand("marble"))
    assert [h.doc for h in hits] == [1, 0, 2]  # tf 2 first; the long document last
    assert bm25.search(expand("sauna")) == []
    # A rarer term outweighs a common one.
    assert bm25.idf("walnut") > bm25.idf("marbl")
    both = bm25.search(expand("walnut marble"))
    assert both[0].doc == 0 and both[0].coverage == pytest.approx(1.0)


def test_bm25_coverage_is_the_share_of_the_question_matched() -> None:
    bm25 = Bm25([index_terms(d) for d in ("marble oak", "price", "oak")])
    hits = {h.doc: h for h in bm25.search(expand("marble helicopter"))}
    assert 0 < hits[0].coverage < 0.5
    assert bm25.search(expand("marble oak"))[0].coverage == pytest.approx(1.0)


# -- retrieval -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "page", "kind"),
    [
        ("What's the price per sq.ft?", 5, PassageKind.FACT),
        ("How much is it?", 5, PassageKind.FACT),
        ("Is there a payment plan?", 6, PassageKind.FACT),
        ("What's the possession date?", 7, PassageKind.FACT),
        ("RERA number?", 8, PassageKind.FACT),
        ("Rental yield?", 9, PassageKind.FACT),
        ("How many bedrooms?", 4, PassageKind.FACT),
        ("what amenities are there?", 3, PassageKind.TEXT),
        ("How far is the metro?", 2, PassageKind.TEXT),
        ("who is the developer?", 10, PassageKind.TEXT),
        ("قیمت هر متر مربع چقدر است؟", 5, PassageKind.FACT),
        ("زمان تحویل کی است؟", 7, PassageKind.FACT),
        ("هل يوجد خطة دفع؟", 6, PassageKind.FACT),
        ("هل يوجد مسبح؟", 3, PassageKind.TEXT),
        ("Какая доходность от аренды?", 9, PassageKind.FACT),
        ("Кто застройщик?", 10, PassageKind.TEXT),
    ],
)
def test_retrieve_finds_the_page_in_every_language(
    index: Index, question: str, page: int, kind: PassageKind
) -> None:
    passages = retrieve(question, index, LISTINGS)
    assert passages, question
    assert (passages[0].page, passages[0].kind) == (page, kind)
    assert len(passages) <= 3


def test_facts_come_first_the_most_specific_first(index: Index) -> None:
    passages = retrieve("What's the price per sq.ft?", index, k=5)
    assert passages[0].chunk is not None and passages[0].chunk.fact == "price_per_sqft"
    # Then the plain price fact, then the price table row; text after tables.
    kinds = [p.kind for p in passages]
    assert kinds.index(PassageKind.TABLE) > kinds.index(PassageKind.FACT)
    price = retrieve("what's the price?", index, k=5)
    assert price[0].chunk is not None and price[0].chunk.fact == "price"


def test_table_rows_come_before_text(index: Index) -> None:
    passages = retrieve("payment milestones on handover", index, k=5)
    tables = [i for i, p in enumerate(passages) if p.kind is PassageKind.TABLE]
    texts = [i for i, p in enumerate(passages) if p.kind is PassageKind.TEXT]
    assert tables and texts and max(tables) < min(texts)


def test_nothing_relevant_is_nothing(index: Index) -> None:
    for question in [
        "Do you allow pets?",
        "What's the weather like tomorrow?",
        "Какая сегодня погода?",
        "hello",
        "",
        "تحلیل بازار بورس تهران",
    ]:
        assert retrieve(question, index, LISTINGS) == [], question


def test_a_question_about_another_listing_is_not_answered_by_this_brochure(index: Index) -> None:
    passages = retrieve("What's the price of the Palm Jumeirah villa?", index, LISTINGS)
    assert passages and passages[0].kind is PassageKind.LISTING
    assert passages[0].listing is LISTINGS[1]
    assert passages[0].citation.page is None
    assert passages[0].citation.source_id == LISTINGS[1].property_id
    assert "AED 12,500,000" in passages[0].text


def test_listings_are_the_fallback_without_brochures() -> None:
    passages = retrieve("قیمت ویلا در پالم جمیرا چقدر است؟", None, LISTINGS)
    assert [p.listing for p in passages] == [LISTINGS[1]]
    generic = retrieve("how much?", None, LISTINGS)
    assert {p.listing for p in generic} == set(LISTINGS)
    per_sqft = retrieve("price per sq.ft of Marina Residences", None, LISTINGS)
    assert per_sqft[0].listing is LISTINGS[0] and "AED 1,960 per sq.ft" in per_sqft[0].text
    assert retrieve("do you allow pets?", None, LISTINGS) == []


def test_archived_listings_are_never_retrieved() -> None:
    archived = listing(
        4,
        "Old Villa",
        "Palm Jumeirah",
        PropertyType.VILLA,
        9_000_000,
        status=ListingStatus.ARCHIVED,
    )
    assert retrieve("Old Villa price", None, (archived,)) == []


def test_retrieve_returns_at_most_k(index: Index) -> None:
    assert len(retrieve("payment plan instalments milestones", index, k=2)) == 2
    assert retrieve("payment plan", index, k=0) == []
