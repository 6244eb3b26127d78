"""Real-estate query expansion: the words and phrases leads and brochures use, in en, fa, ar and
ru, folded into shared concepts ("#price", "#handover", ...) on both the question and the indexed
side, so a Persian "زمان تحویل" meets an English "Handover: Q4 2026"."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from leadbot.knowledge.text import STOP_TERMS, tokens

# Units only qualify another concept ("size in sq.m"): they never make a fact the answer alone.
UNIT_CONCEPTS = frozenset({"sqft", "sqm"})
# A specific thing asked for ("a golf course", "the airport") is matched only by passages that
# name it, not by any passage about amenities or location in general: the general concept is
# left out of the question's slot (passages are still tagged with both).
PARENTS = {
    **dict.fromkeys(("pool", "gym", "parking", "golf"), "amenities"),
    **dict.fromkeys(("airport", "metro", "beach", "school", "hospital", "mall"), "location"),
}

# concept(s) → phrases, by language. "a+b" names several concepts one phrase stands for.
# Phrases are written as people type them; they go through the same normalisation and stemming
# as everything else, so inflected forms ("рассрочку", "اقساطی", "instalments") match.
_LEXICON: dict[str, dict[str, str]] = {
    "price": {
        "en": "price|prices|priced|pricing|cost|costs|how much|asking price|worth|value"
        "|crore|crores|cr|lakh|lakhs|lac|lacs|million|millions|mn|billion|bn",
        "fa": "قیمت|قیمتش|چقدر|چنده|هزینه|بها|ارزش|میلیون|میلیارد|کرور|لاک",
        "ar": "سعر|أسعار|الاسعار|ثمن|بكم|كم سعر|كم يكلف|تكلفة|كلفة|قيمة|مليون|مليار|كرور|لاك",
        "ru": "цена|цены|стоимость|сколько стоит|стоит|почем|миллион|млн|млрд|крор|лакх|лакх",
    },
    "price_per_area+price": {
        "en": "price per|rate per|cost per",
        "fa": "قیمت متری|قیمت هر",
        "ar": "سعر القدم|سعر المتر",
        "ru": "цена за метр|стоимость метра|стоимость за метр",
    },
    "price_per_area+price+sqft": {
        "en": "per sq ft|per sqft|per square foot|per square feet|psf|ppsf|price per sq ft"
        "|price per sqft|price per square foot|price per square feet|cost per sq ft",
        "fa": "هر فوت|هر فوت مربع|فوتی|قیمت هر فوت|قیمت هر فوت مربع",
        "ar": "للقدم المربع|لكل قدم مربع|للقدم|سعر القدم المربع|سعر القدم المربعة",
        "ru": "за квадратный фут|за кв фут|за фут|цена за фут|цена за квадратный фут",
    },
    "price_per_area+price+sqm": {
        "en": "per sq m|per sqm|per square metre|per square meter|per m2|price per sq m"
        "|price per sqm|price per square metre|price per square meter|price per m2",
        "fa": "هر متر|هر متر مربع|متری|قیمت هر متر|قیمت هر متر مربع",
        "ar": "للمتر المربع|لكل متر مربع|للمتر|سعر المتر المربع",
        "ru": "за квадратный метр|за кв м|за м2|цена квадратного метра|цена за квадратный метр"
        "|стоимость квадратного метра|цена за кв м|стоит квадратный метр|стоит метр"
        "|сколько стоит квадратный метр|сколько стоит метр",
    },
    "size": {
        # "area" is a size more often than a place in brochures ("Total area: 1,250 sq.ft");
        # "which area" is the place (see location).
        "en": "size|sizes|area|areas|how big|how large|built up area|bua|carpet area"
        "|super built up"
        "|dimensions|footage|square footage|plot",
        "fa": "متراژ|مساحت|زیربنا|چند متر|بزرگی|اندازه",
        "ar": "مساحة|المساحة|حجم|كم متر",
        "ru": "площадь|размер|метраж|сколько метров|какой площади",
    },
    "size+sqft": {
        "en": "sq ft|sqft|square feet|square foot|sf",
        "fa": "فوت مربع|فوت",
        "ar": "قدم مربع|قدم",
        "ru": "квадратных футов|квадратный фут|кв фут|футов",
    },
    "size+sqm": {
        "en": "sq m|sqm|square metres|square meters|square metre|square meter|m2",
        "fa": "متر مربع|مترمربع",
        "ar": "متر مربع|م2",
        "ru": "квадратных метров|квадратный метр|кв м|м2|квм",
    },
    "bedrooms": {
        "en": "bedroom|bedrooms|bed|beds|br|bhk|configuration|configurations|layout|layouts"
        "|unit type|unit types|floor plan|floor plans|typology|rooms|room|how many rooms",
        "fa": "خواب|خوابه|اتاق خواب|اتاق|چند خوابه|پلان|نقشه|تیپ واحد",
        "ar": "غرفة نوم|غرف نوم|غرفة|غرف|تصميم|مخطط|مخططات|نوع الوحدة",
        "ru": "спальня|спальни|спален|комнат|комната|комнатная|планировка|конфигурация|тип квартир",
    },
    "studio+bedrooms": {"en": "studio", "fa": "استودیو", "ar": "استوديو", "ru": "студия"},
    "payment_plan": {
        "en": "payment plan|payment plans|payment schedule|payment terms|instalment|instalments"
        "|installment|installments|emi|down payment|downpayment|booking amount|deposit|milestone"
        "|milestones|payment|payments|pay",
        "fa": "طرح پرداخت|شرایط پرداخت|نحوه پرداخت|پرداخت|اقساط|قسط|اقساطی|قسطی|پیش پرداخت",
        "ar": "خطة الدفع|خطة سداد|خطط الدفع|نظام الدفع|طريقة الدفع|الدفع|دفعات|أقساط|تقسيط"
        "|قسط|دفعة أولى|الدفعة المقدمة|مقدم|السداد",
        "ru": "план оплаты|план платежей|график платежей|условия оплаты|оплата|рассрочка"
        "|платеж|платежи|взнос|первоначальный взнос",
    },
    "payment_plan+clp": {
        "en": "clp|construction linked|construction linked plan|during construction",
        "fa": "مرتبط با ساخت|حین ساخت|در طول ساخت",
        "ar": "مرتبطة بالبناء|مرتبط بالإنشاء|أثناء البناء|خلال البناء",
        "ru": "во время строительства|в период строительства|привязанный к строительству",
    },
    "payment_plan+plp": {
        "en": "plp|possession linked|possession linked plan|post handover|after handover"
        "|post possession",
        "fa": "پس از تحویل|بعد از تحویل",
        "ar": "بعد التسليم|بعد الاستلام",
        "ru": "после сдачи|после передачи ключей|после ввода",
    },
    "registration": {
        "en": "rera|rera number|permit|permit number|registration|registration number"
        "|registered|license|licence|licensed|dld|trakheesi|project number|approval|approved"
        "|escrow|oqood",
        "fa": "مجوز|مجوز ساخت|ثبت|شماره ثبت|پروانه|ریرا|ررا|شماره مجوز",
        "ar": "ريرا|رقم ريرا|تصريح|رقم التصريح|ترخيص|رخصة|تسجيل|رقم التسجيل|مسجل|دائرة الأراضي",
        "ru": "рера|разрешение|номер разрешения|регистрация|регистрационный номер|лицензия"
        "|зарегистрирован",
    },
    "roi": {
        "en": "roi|return|returns|return on investment|income|capital appreciation|appreciation"
        "|investment|profit|profitability|payback",
        "fa": "بازگشت سرمایه|سود|سوددهی|سرمایه گذاری",
        "ar": "عائد|عوائد|العائد على الاستثمار|ربح|أرباح|استثمار|الاستثمار",
        "ru": "доход|окупаемость|прибыль|рентабельность|инвестиции|инвестиция|рост стоимости",
    },
    # A yield is a return: a yield question is also answered by a return, not the other way.
    "roi+rental_yield": {
        "en": "rental yield|yield|yields|rental income|rent income|rental return|net yield"
        "|gross yield",
        "fa": "بازده|بازدهی|بازده اجاره|درآمد اجاره",
        "ar": "عائد الإيجار|العائد الإيجاري|دخل الإيجار|عائد إيجاري",
        "ru": "доходность|арендный доход|доход от аренды|доходность от аренды|арендная доходность",
    },
    "rent": {
        "en": "rent|rents|rented|rental|annual rent|rent per year|lease|tenant|tenants",
        "fa": "اجاره|کرایه|اجاره بها|مستاجر",
        "ar": "إيجار|الإيجار|ايجار|إيجار سنوي|مستأجر",
        "ru": "аренда|арендная плата|арендатор|сдать в аренду",
    },
    "handover": {
        "en": "possession|possession date|handover|hand over|handover date|completion"
        "|completion date|complete|completed|ready|ready date|ready to move|move in|delivery"
        "|delivered|key handover|keys|expected completion|finished",
        "fa": "تحویل|زمان تحویل|تاریخ تحویل|آماده|آماده تحویل|اتمام|پایان ساخت|تکمیل",
        "ar": "تسليم|موعد التسليم|تاريخ التسليم|الاستلام|استلام|جاهز|جاهزة|الانتهاء|إنجاز|اكتمال",
        "ru": "сдача|срок сдачи|сроки сдачи|дата сдачи|сдадут|передача ключей|ключи|готовность"
        "|завершение|ввод в эксплуатацию|когда будет готов|заселение|въезд",
    },
    "amenities": {
        "en": "amenities|amenity|facilities|facility|features|lifestyle|spa|sauna|playground"
        "|kids play area|clubhouse|concierge|security|garden|gardens|bbq|barbecue"
        "|jogging track|tennis|yoga|lounge|cinema",
        "fa": "امکانات|امکانات رفاهی|سونا|اسپا|فضای سبز|زمین بازی|نگهبانی|لابی|امنیت",
        "ar": "مرافق|المرافق|وسائل الراحة|خدمات|سبا|ساونا|حديقة|ملعب|أمن|حراسة",
        "ru": "удобства|инфраструктура|спа|сауна|детская площадка|консьерж|охрана|сад|парк",
    },
    "amenities+pool": {
        "en": "pool|pools|swimming pool|infinity pool",
        "fa": "استخر",
        "ar": "مسبح|حمام سباحة|حوض سباحة",
        "ru": "бассейн",
    },
    "amenities+gym": {
        "en": "gym|gymnasium|fitness|fitness centre|fitness center",
        "fa": "باشگاه|سالن ورزش|باشگاه ورزشی|بدنسازی",
        "ar": "صالة رياضية|نادي رياضي|جيم|لياقة",
        "ru": "спортзал|тренажерный зал|фитнес|фитнес центр",
    },
    "amenities+golf": {
        "en": "golf|golf course",
        "fa": "گلف|زمین گلف",
        "ar": "جولف|غولف|ملعب جولف|ملعب غولف",
        "ru": "гольф|поле для гольфа",
    },
    "amenities+parking": {
        "en": "parking|car park|parking space|parking spaces|garage",
        "fa": "پارکینگ|جای پارک",
        "ar": "موقف|موقف سيارات|مواقف|مواقف سيارات|جراج",
        "ru": "парковка|паркинг|машиноместо|гараж",
    },
    "location": {
        "en": "location|located|where|address|neighbourhood|neighborhood|community|district"
        "|nearby|near|close to|distance|how far|far|away|minutes|connectivity|connected|access"
        "|highway|transport|which area|what area|surrounding area|area around",
        "fa": "موقعیت|کجا|کجاست|آدرس|محله|منطقه|نزدیک|دسترسی|فاصله|چقدر فاصله|دور|دقیقه",
        # Not "أين" (where): folded, it is Persian "این" (this).
        "ar": "الموقع|موقع|يقع|تقع|عنوان|منطقة|الحي|قريب|بالقرب|الوصول|المسافة|تبعد|يبعد|بعيد"
        "|دقائق|دقيقة",
        "ru": "расположение|местоположение|где|адрес|район|рядом|близко|далеко|как далеко"
        "|расстояние|транспорт|доступность|сколько ехать|ехать|минут",
    },
    "location+airport": {
        "en": "airport|airports|dxb|dwc",
        "fa": "فرودگاه",
        "ar": "المطار|مطار",
        "ru": "аэропорт|аэропорта",
    },
    "location+metro": {
        "en": "metro|metro station|subway|tram",
        "fa": "مترو|ایستگاه مترو",
        "ar": "مترو|محطة المترو",
        "ru": "метро|станция метро|трамвай",
    },
    "location+beach": {"en": "beach|beaches", "fa": "ساحل", "ar": "الشاطئ|شاطئ", "ru": "пляж"},
    "location+school": {
        "en": "school|schools",
        "fa": "مدرسه",
        "ar": "مدارس|مدرسة",
        "ru": "школа|школы|школ",
    },
    "location+hospital": {
        "en": "hospital|clinic",
        "fa": "بیمارستان|درمانگاه",
        "ar": "مستشفى|عيادة",
        "ru": "больница|клиника",
    },
    "location+mall": {
        "en": "mall|shopping|shops",
        "fa": "مرکز خرید|پاساژ",
        "ar": "مول|مركز تسوق",
        "ru": "торговый центр|молл|магазины",
    },
    "specifications": {
        "en": "specifications|specification|specs|finishes|finishing|fittings|appliances"
        "|kitchen appliances|furnished|furniture|flooring|materials|smart home",
        "fa": "مشخصات|متریال|لوازم|مبله|مبلمان|کابینت|لوازم آشپزخانه|کفپوش|نازک کاری",
        "ar": "المواصفات|مواصفات|التشطيبات|تشطيب|الأجهزة|أجهزة|مفروشة|مفروش|أثاث",
        "ru": "отделка|отделкой|характеристики|техника|бытовая техника|мебель|меблированная",
    },
    "developer": {
        "en": "developer|developers|developed by|builder|built by|construction company"
        "|track record",
        "fa": "سازنده|توسعه دهنده|شرکت سازنده|انبوه ساز|سازنده پروژه",
        "ar": "المطور|مطور|الشركة المطورة|المطور العقاري|شركة التطوير",
        "ru": "застройщик|девелопер|кто строит",
    },
    "service_charge": {
        "en": "service charge|service charges|maintenance fee|maintenance fees"
        "|maintenance charge|hoa|community fee|management fee",
        "fa": "شارژ|هزینه نگهداری|شارژ ماهانه|هزینه خدمات",
        "ar": "رسوم الخدمة|رسوم الخدمات|رسوم الصيانة|تكاليف الصيانة",
        "ru": "плата за обслуживание|сервисный сбор|обслуживание|коммунальные платежи",
    },
    "availability": {
        "en": "availability|units available|units left|how many units|sold out"
        "|remaining units|units remaining",
        "fa": "واحد موجود|واحدهای موجود|چند واحد|باقی مانده",
        "ar": "الوحدات المتاحة|وحدات متاحة|كم وحدة|متبقي",
        "ru": "в наличии|свободных квартир|сколько квартир|осталось",
    },
    "view": {
        "en": "view|views|sea view|marina view|overlooking|panoramic",
        "fa": "ویو|منظره|چشم انداز",
        "ar": "إطلالة|اطلالة|مطل|تطل",
        "ru": "вид|вид на море|панорамный",
    },
    "apartment": {
        "en": "apartment|apartments|flat|flats|residence|residences|unit|units",
        "fa": "آپارتمان|واحد",
        "ar": "شقة|شقق|وحدة",
        "ru": "квартира|квартиры|квартир|апартаменты",
    },
    "villa": {"en": "villa|villas", "fa": "ویلا|ویلای", "ar": "فيلا|فلل", "ru": "вилла|виллы"},
    "townhouse": {
        "en": "townhouse|townhouses|town house",
        "fa": "تاون هاوس",
        "ar": "تاون هاوس",
        "ru": "таунхаус",
    },
    "penthouse": {
        "en": "penthouse|penthouses",
        "fa": "پنت هاوس|پنتهاوس",
        "ar": "بنتهاوس|بنت هاوس",
        "ru": "пентхаус",
    },
    "office": {"en": "office|offices", "fa": "دفتر|اداری", "ar": "مكتب|مكاتب", "ru": "офис"},
    # Places leads name in their own script; a few of Dubai's best known, as an example of how
    # an agency's markets are added.
    "place_dubai": {"en": "dubai", "fa": "دبی", "ar": "دبي", "ru": "дубай|дубае"},
    "place_marina": {"en": "marina", "fa": "مارینا", "ar": "مارينا", "ru": "марина|марине"},
    "place_palm": {
        "en": "palm|palm jumeirah",
        "fa": "پالم|پالم جمیرا",
        "ar": "النخلة|نخلة جميرا|بالم",
        "ru": "палм|пальма|палм джумейра",
    },
    "place_jumeirah": {"en": "jumeirah", "fa": "جمیرا", "ar": "جميرا", "ru": "джумейра"},
    "place_downtown": {
        "en": "downtown",
        "fa": "داون تاون|داونتاون",
        "ar": "داون تاون|وسط المدينة",
        "ru": "даунтаун",
    },
    "place_business_bay": {
        "en": "business bay",
        "fa": "بیزینس بی",
        "ar": "الخليج التجاري|بزنس باي",
        "ru": "бизнес бэй|бизнес бей",
    },
}

# Magnitude words after a number: "2.45 million", "24.5 lakh", "۲٫۵ میلیون", "2,5 млн".
_MAGNITUDES_TEXT: dict[int, str] = {
    1_000: "k|thousand|thousands|هزار|الف|ألف|тыс|тысяч|тысячи",
    100_000: "lakh|lakhs|lac|lacs|لاک|лакх",
    1_000_000: "m|mn|million|millions|میلیون|مليون|миллион|миллиона|миллионов|млн",
    10_000_000: "crore|crores|cr|کرور|كرور|крор",
    1_000_000_000: "bn|billion|billions|میلیارد|مليار|миллиард|миллиарда|млрд",
}


@lru_cache(maxsize=1)
def _phrases() -> tuple[dict[tuple[str, ...], frozenset[str]], int]:
    """The phrase table (stemmed phrase → concepts) and its longest phrase, built on first use:
    ~15 ms that a cold start which never sees a question does not pay."""
    phrases: dict[tuple[str, ...], set[str]] = {}
    for names, by_language in _LEXICON.items():
        concepts = names.split("+")
        for text in by_language.values():
            for phrase in text.split("|"):
                key = tuple(tokens(phrase))
                if key:
                    phrases.setdefault(key, set()).update(concepts)
    longest = max(len(k) for k in phrases)
    return {k: frozenset(v) for k, v in phrases.items()}, longest


@lru_cache(maxsize=1)
def _magnitudes() -> dict[str, int]:
    return {
        term: multiplier
        for multiplier, text in _MAGNITUDES_TEXT.items()
        for word in text.split("|")
        for term in tokens(word)
    }


def concept_term(concept: str) -> str:
    """The index term a concept is stored as; no word can look like it."""
    return "#" + concept


@dataclass(frozen=True, slots=True)
class Slot:
    """One thing the question asks for. Its terms are alternatives (the concept, the words the
    lead used for it): a passage matching any of them matches the slot, scored by the best."""

    terms: tuple[str, ...]
    concepts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Query:
    """A question, expanded: what it asks for as slots, and the concepts among them."""

    text: str
    slots: tuple[Slot, ...]
    concepts: frozenset[str]

    @property
    def answerable_concepts(self) -> frozenset[str]:
        """The concepts that can make a fact the answer (units only qualify them)."""
        return self.concepts - UNIT_CONCEPTS


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    end: int
    concepts: frozenset[str]


def _scan(terms: list[str]) -> list[_Match]:
    """Concept phrases in `terms`, longest first, left to right, not overlapping."""
    phrases, longest = _phrases()
    found: list[_Match] = []
    i, n = 0, len(terms)
    while i < n:
        for length in range(min(longest, n - i), 0, -1):
            concepts = phrases.get(tuple(terms[i : i + length]))
            if concepts is not None:
                found.append(_Match(i, i + length, concepts))
                i += length
                break
        else:
            i += 1
    return found


def _amounts(terms: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, amount) for "2.45 million"-like spans, the amount as a plain integer term."""
    magnitudes = _magnitudes()
    found = []
    for i in range(len(terms) - 1):
        multiplier = magnitudes.get(terms[i + 1])
        if multiplier is None or not terms[i][0].isdigit():
            continue
        if terms[i + 1] == "m" and i + 2 < len(terms) and terms[i + 2] == "2":
            continue  # "120 m2" is square metres, not 120 million
        try:
            value = Decimal(terms[i]) * multiplier
        except InvalidOperation:
            continue
        found.append((i, i + 2, str(int(value))))
    return found


def index_terms(text: str) -> list[str]:
    """The terms a passage is indexed under: its content words (stemmed) plus the concepts and
    amounts its phrases stand for."""
    terms = tokens(text)
    extra = [concept_term(c) for m in _scan(terms) for c in sorted(m.concepts)]
    extra += [amount for _, _, amount in _amounts(terms)]
    return [t for t in terms if t not in STOP_TERMS] + extra


@lru_cache(maxsize=1024)
def expand(question: str) -> Query:
    """`question` as slots: one per concept phrase (the concept and the lead's own content
    words for it), one per remaining content word, one per amount ("2.45 million")."""
    terms = tokens(question)
    slots: list[Slot] = []
    consumed: set[int] = set()
    for match in _scan(terms):
        words = [t for t in terms[match.start : match.end] if t not in STOP_TERMS]
        parents = {PARENTS[c] for c in match.concepts if c in PARENTS}
        named = tuple(concept_term(c) for c in sorted(match.concepts - parents))
        slots.append(Slot(terms=named + tuple(dict.fromkeys(words)), concepts=match.concepts))
        consumed.update(range(match.start, match.end))
    for start, end, amount in _amounts(terms):
        slots.append(Slot(terms=(amount, terms[start])))
        consumed.update(range(start, end))
    seen = {t for slot in slots for t in slot.terms}
    for i, term in enumerate(terms):
        if i in consumed or term in STOP_TERMS or term in seen:
            continue
        seen.add(term)
        slots.append(Slot(terms=(term,)))
    # A concept asked twice in words that say nothing else ("how much is the price per sq.ft")
    # would count twice: such a slot goes when another stands for its concepts (the first of
    # equals stays). Slots with words of their own ("spa", "pool") stay.
    unique = [
        slot
        for i, slot in enumerate(slots)
        if not slot.concepts
        or any(not t.startswith("#") for t in slot.terms)
        or not any(
            slot.concepts < other.concepts or (slot.concepts == other.concepts and j < i)
            for j, other in enumerate(slots)
        )
    ]
    concepts = frozenset(c for slot in unique for c in slot.concepts)
    return Query(text=question, slots=tuple(unique), concepts=concepts)


def concepts_of(text: str) -> frozenset[str]:
    """The concepts `text` names (for a fact's name: "price_per_sqft" → price, price_per_area,
    sqft)."""
    return frozenset(c for m in _scan(tokens(text.replace("_", " "))) for c in m.concepts)
