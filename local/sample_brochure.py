"""The sample brochure the project makes itself (reportlab): 12 pages for the demo listing
"Marina Residences, 2 bedrooms with sea view", each on one subject, so a question has one right
page; plus broken PDFs (corrupt, password-protected, scanned without text) for the tests.

The facts agree with local.seed.DEMO_LISTINGS[0]: Dubai Marina, 2 bedrooms, AED 2,450,000,
1,250 sq.ft, handover Q4 2026. `PAGES` says which page holds what (the evaluation set of
retrieval asks its questions against it). The output is byte-for-byte deterministic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

SAMPLE_TITLE = "Marina Residences brochure"
SAMPLE_PROPERTY_ID = "01KE6P4YM0VS00000000000001"

# page → its subject, as printed in the page's heading.
PAGES: dict[int, str] = {
    1: "Overview",
    2: "Location and connectivity",
    3: "Amenities",
    4: "Floor plans and unit sizes",
    5: "Price list",
    6: "Payment plan",
    7: "Handover and construction progress",
    8: "Registration and permits",
    9: "Rental yield and return on investment",
    10: "The developer",
    11: "Specifications and finishes",
    12: "Frequently asked questions and contact",
}

Block = tuple[str, Any]  # ("h", text) | ("p", text) | ("table", rows) | ("list", items)

_CONTENT: dict[int, list[Block]] = {
    1: [
        ("title", "Marina Residences"),
        ("p", "Two-bedroom residences with sea view in the heart of Dubai Marina."),
        ("h", PAGES[1]),
        (
            "p",
            "Marina Residences is a 42-storey tower of 180 homes on the western edge of Dubai "
            "Marina, facing the Arabian Gulf and the Palm Jumeirah. Every residence has "
            "floor-to-ceiling windows and a deep balcony, so the sea is part of daily life.",
        ),
        (
            "p",
            "The tower rises from a landscaped podium of gardens and shaded walkways. Residents "
            "enter through a double-height lobby with a 24-hour concierge. The design by "
            "Atelier Lune pairs pale stone with bronze details inspired by traditional dhows.",
        ),
        (
            "p",
            "This brochure describes the two-bedroom residences offered by Demo Realty, their "
            "plans, prices, payment terms and the investment case.",
        ),
    ],
    2: [
        ("h", PAGES[2]),
        (
            "p",
            "Marina Residences stands on Marina Walk, a short stroll from the beach at JBR and "
            "the restaurants of the marina promenade. Sheikh Zayed Road is two minutes away by "
            "car, which links the tower to the rest of the city.",
        ),
        ("p", "Travel times by car, or on foot where stated:"),
        (
            "list",
            [
                "Dubai Marina Metro Station: 5 minutes on foot",
                "Dubai Marina Tram: 3 minutes on foot",
                "JBR Beach: 7 minutes on foot",
                "Dubai Media City and Internet City: 8 minutes",
                "Mall of the Emirates: 15 minutes",
                "Downtown Dubai and the Burj Khalifa: 25 minutes",
                "Al Maktoum International Airport (DWC): 25 minutes",
                "Dubai International Airport (DXB): 35 minutes",
            ],
        ),
        (
            "p",
            "Schools nearby include Dubai British School and the American School of Dubai, "
            "both within 15 minutes. The nearest hospital is Mediclinic Dubai Mall Clinic in "
            "the marina, 6 minutes away.",
        ),
    ],
    3: [
        ("h", PAGES[3]),
        (
            "p",
            "Residents enjoy resort living on the podium and on the rooftop. Every facility is "
            "included in the service charge and open from 6 am to 11 pm unless stated.",
        ),
        (
            "list",
            [
                "A 40-metre infinity pool on the rooftop with views over the Gulf",
                "A fully equipped gym and a yoga studio with sea views",
                "A children's pool and a shaded kids' play area",
                "A residents' lounge, co-working space and meeting rooms",
                "Barbecue terraces and landscaped gardens on the podium",
                "A padel tennis court and a jogging track",
                "Sauna, steam room and spa treatment rooms",
                "24-hour security, concierge and valet parking",
            ],
        ),
        (
            "p",
            "Pets are welcome: the podium has a dedicated pet park and a pet washing station.",
        ),
    ],
    4: [
        ("h", PAGES[4]),
        (
            "p",
            "Marina Residences offers one-, two- and three-bedroom layouts. The two-bedroom "
            "Type 2A is the residence presented in this brochure: a 2 BHK home with an open "
            "kitchen, two en-suite bedrooms and a maid's room.",
        ),
        (
            "table",
            [
                ["Unit type", "Configuration", "Internal area", "Balcony", "Total area"],
                ["Type 1A", "1 bedroom", "690 sq.ft", "110 sq.ft", "800 sq.ft (74.3 sq.m)"],
                ["Type 2A", "2 bedrooms", "1,080 sq.ft", "170 sq.ft", "1,250 sq.ft (116.1 sq.m)"],
                ["Type 3A", "3 bedrooms", "1,620 sq.ft", "230 sq.ft", "1,850 sq.ft (171.9 sq.m)"],
            ],
        ),
        (
            "p",
            "Ceilings are 3.2 metres high in the living room. Every Type 2A residence faces "
            "the sea and comes with one covered parking space.",
        ),
    ],
    5: [
        ("h", PAGES[5]),
        (
            "p",
            "Prices of the residences available now, in UAE dirhams (AED). Prices include the "
            "parking space; the 4% Dubai Land Department transfer fee is paid by the buyer.",
        ),
        (
            "table",
            [
                ["Unit", "Type", "Floor", "Price", "Price per sq.ft", "Price per sq.m"],
                ["1A-1204", "1A", "12", "AED 1,480,000", "AED 1,850", "AED 19,913"],
                ["2A-2806", "2A", "28", "AED 2,450,000", "AED 1,960", "AED 21,097"],
                ["3A-3502", "3A", "35", "AED 3,790,000", "AED 2,049", "AED 22,052"],
            ],
        ),
        (
            "p",
            "The two-bedroom residence 2A-2806 on the 28th floor is priced at AED 2,450,000, "
            "which is AED 1,960 per sq.ft or AED 21,097 per sq.m. Only 3 two-bedroom units "
            "remain at this price.",
        ),
    ],
    6: [
        ("h", PAGES[6]),
        (
            "p",
            "Marina Residences is sold on a 60/40 construction-linked payment plan (CLP): 60% "
            "is paid during construction and 40% on handover. Instalments fall due as the "
            "tower reaches each stage, as certified by the project engineer.",
        ),
        (
            "table",
            [
                ["Milestone", "Payment", "Due"],
                ["On booking", "10%", "On signing the reservation form"],
                ["1st instalment", "10%", "On completion of the foundations"],
                ["2nd instalment", "15%", "On completion of 50% of the structure"],
                ["3rd instalment", "15%", "On completion of the structure"],
                ["4th instalment", "10%", "On completion of the facade"],
                ["On handover", "40%", "On handover of the keys"],
            ],
        ),
        (
            "p",
            "Buyers who prefer to pay closer to possession may ask for a possession-linked "
            "plan (PLP): 20% on booking and 80% on possession. There are no post-handover "
            "instalments, and no interest is charged on any instalment.",
        ),
    ],
    7: [
        ("h", PAGES[7]),
        (
            "p",
            "Expected handover: Q4 2026. Keys will be handed over in December 2026, once "
            "Dubai Municipality issues the building completion certificate.",
        ),
        (
            "p",
            "Construction is 65% complete. The structure topped out in October 2025 and the "
            "facade is being installed floor by floor. Progress photos are published every "
            "month to buyers.",
        ),
        (
            "p",
            "If the handover is delayed beyond twelve months, the sale and purchase agreement "
            "lets the buyer cancel and receive a full refund from the escrow account.",
        ),
    ],
    8: [
        ("h", PAGES[8]),
        (
            "p",
            "Marina Residences is registered with the Real Estate Regulatory Agency (RERA) of "
            "Dubai under RERA project number 2189. Buyers can verify it on the Dubai REST app.",
        ),
        (
            "p",
            "Advertising permit number (Trakheesi): 7104562891. Every advertisement of this "
            "project carries this permit number.",
        ),
        (
            "p",
            "All payments go to the project escrow account at Emirates NBD, account "
            "1015 6644 0021, as Dubai law requires for off-plan sales. Each buyer's "
            "purchase is registered on the Oqood register of the Dubai Land Department.",
        ),
    ],
    9: [
        ("h", PAGES[9]),
        (
            "p",
            "A two-bedroom sea-view apartment in Dubai Marina rents for about AED 165,000 a "
            "year. At the list price of the Type 2A residence that is a gross rental yield of "
            "6.7%.",
        ),
        (
            "p",
            "After the service charge of AED 18 per sq.ft a year (AED 22,500) and property "
            "management at 5% of the rent, the estimated net rental yield is 5.5%.",
        ),
        (
            "p",
            "Dubai Marina prices rose by 9% a year on average from 2021 to 2025. With similar "
            "growth the estimated return on investment (ROI) is 38% over five years, rent "
            "included. Estimates are not guaranteed; past growth does not promise future growth.",
        ),
        (
            "p",
            "An investment of AED 2 million or more qualifies the buyer for the UAE's ten-year "
            "Golden Visa.",
        ),
    ],
    10: [
        ("h", PAGES[10]),
        (
            "p",
            "Marina Residences is developed by Azure Crest Developments, a Dubai developer "
            "founded in 2004. Azure Crest has delivered 14 residential towers in Dubai Marina, "
            "JLT and Business Bay, more than 4,200 homes, every one of them on time.",
        ),
        (
            "p",
            "Its recent projects include Azure Bay in Business Bay (2021) and Crest Gardens in "
            "JLT (2023). The company is a member of the Dubai Developers Council.",
        ),
        (
            "p",
            "The main contractor is Gulf Horizon Contracting and the architect is Atelier "
            "Lune of Paris.",
        ),
    ],
    11: [
        ("h", PAGES[11]),
        (
            "p",
            "Residences are delivered fully finished, with fitted kitchens and wardrobes. "
            "The two-bedroom homes are not furnished.",
        ),
        (
            "list",
            [
                "Floors: large-format Italian porcelain tiles; oak floors in the bedrooms",
                "Kitchen: quartz worktops with Bosch oven, hob, dishwasher and refrigerator",
                "Bathrooms: Grohe fittings, Duravit sanitary ware and marble vanities",
                "Windows: double-glazed, floor to ceiling, with blackout blinds",
                "Air conditioning: central chilled water, with a thermostat in every room",
                "Smart home: lights, blinds and climate from a phone app",
            ],
        ),
    ],
    12: [
        ("h", PAGES[12]),
        (
            "p",
            "Can foreigners buy? Yes. Dubai Marina is a freehold area open to every nationality.",
        ),
        (
            "p",
            "Is a mortgage possible? Yes. Banks lend up to 50% of the price on off-plan homes "
            "for buyers who live abroad, and up to 80% after handover for residents.",
        ),
        ("p", "Is parking included? Yes, one covered parking space for each two-bedroom home."),
        (
            "p",
            "Talk to Demo Realty: call +971 4 555 0100 or email sales@demo-agency.example. The "
            "sales gallery at Marina Walk is open every day from 10 am to 8 pm.",
        ),
    ],
}


def sample_brochure() -> bytes:
    """The 12-page brochure of the demo listing as PDF bytes (the same bytes every time)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    story: list[Any] = []
    for page, blocks in sorted(_CONTENT.items()):
        for kind, value in blocks:
            if kind == "title":
                story += [Paragraph(value, styles["Title"]), Spacer(1, 6 * mm)]
            elif kind == "h":
                story += [Paragraph(value, styles["Heading1"]), Spacer(1, 3 * mm)]
            elif kind == "p":
                story += [Paragraph(value, styles["BodyText"]), Spacer(1, 2 * mm)]
            elif kind == "list":
                items = [ListItem(Paragraph(item, styles["BodyText"])) for item in value]
                story += [ListFlowable(items, bulletType="bullet"), Spacer(1, 2 * mm)]
            elif kind == "table":
                table = Table(value, hAlign="LEFT")
                table.setStyle(
                    TableStyle(
                        [
                            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                            ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                            ("FONTSIZE", (0, 0), (-1, -1), 9),
                        ]
                    )
                )
                story += [table, Spacer(1, 4 * mm)]
        if page < len(_CONTENT):
            story.append(PageBreak())

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(20 * mm, 10 * mm, f"Marina Residences  |  page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=SAMPLE_TITLE,
        author="Demo Realty",
        invariant=True,  # no timestamp or random id: the same bytes on every run
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def corrupt_pdf(pdf: bytes | None = None) -> bytes:
    """A PDF whose header is intact but whose body is scrambled and cut short, as a broken
    download or a bad disk leaves it."""
    data = pdf if pdf is not None else sample_brochure()
    middle = len(data) // 2
    return data[:600] + bytes(reversed(data[600:middle])) + b"\x00garbage\x00"


def encrypted_pdf(pdf: bytes | None = None, password: str = "secret") -> bytes:
    """The brochure locked with a password needed to open it (AES-256)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf or sample_brochure())))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def restricted_pdf(pdf: bytes | None = None) -> bytes:
    """The brochure encrypted with an owner password only: anyone can open and read it (as
    every viewer does), only printing and copying are "forbidden"."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf or sample_brochure())))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def textless_pdf(pages: int = 2) -> bytes:
    """A "scanned" brochure: pages of shapes and no text layer at all."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    for page in range(pages):
        canvas.setFillGray(0.2 + 0.1 * page)
        canvas.rect(50, 400, 300, 200, fill=1)
        canvas.circle(300, 200, 80, fill=1)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def page_texts() -> Sequence[str]:
    """Each page's content as plain text, in page order (for tests that check extraction)."""
    texts = []
    for _, blocks in sorted(_CONTENT.items()):
        parts: list[str] = []
        for kind, value in blocks:
            if kind in ("title", "h", "p"):
                parts.append(value)
            elif kind == "list":
                parts.extend(value)
            else:
                parts.extend(" ".join(row) for row in value)
        texts.append("\n".join(parts))
    return texts
