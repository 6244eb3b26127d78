"""Running text into paragraphs, sentences and passages of a retrievable size (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from leadbot.knowledge.pdf import Line

TARGET_CHARS = 600  # a passage closes at the first paragraph end past this
MAX_CHARS = 900  # ... and never grows past this, except for one very long sentence
OVERLAP_MAX_CHARS = 200  # the last sentence of a passage opens the next one if this short

# Abbreviations whose period does not end a sentence ("Rs. 80 lakh", "No. 5", "approx. 5%").
_ABBREVIATIONS = frozenset(
    {"no", "nos", "approx", "e.g", "i.e", "dr", "st", "rs", "mr", "mrs", "ms", "vs", "sq", "apt"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9₹$€£])")
_KEY_VALUE = re.compile(r"^[A-Z][^:]{1,40}:\s*\S")


def paragraphs(lines: Sequence[Line], width: float) -> list[str]:
    """Lines joined into paragraphs: a new one after a gap wider than the line spacing, at a
    bullet, or after a line that stops short and ends a sentence (or is "Label: value")."""
    result: list[list[str]] = []
    right = max((line.x1 for line in lines), default=width)
    previous: Line | None = None
    for line in lines:
        if previous is None or _breaks(previous, line, right):
            result.append([])
        result[-1].append(line.text)
        previous = line
    return [_join_lines(p) for p in result]


def _breaks(previous: Line, line: Line, right: float) -> bool:
    height = max(previous.bottom - previous.top, 1.0)
    if line.top - previous.bottom > 0.6 * height or line.bullet or line.top < previous.top:
        return True
    stopped_short = previous.x1 < right - 0.15 * (right - min(previous.x0, line.x0))
    return stopped_short and (
        previous.text.endswith((".", "!", "?", ":"))
        or bool(_KEY_VALUE.match(line.text) and _KEY_VALUE.match(previous.text))
        or len(previous.text) < 60
    )


def _join_lines(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        # "construc-" + "tion" is one word; "60-" + "storey" stays hyphenated but joined.
        if text.endswith("-") and line[:1].islower() and not text.endswith(" -"):
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text


def sentences(paragraph: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : match.start()].rsplit(None, 1)
        word = before[-1].rstrip(".").lower() if before else ""
        if word in _ABBREVIATIONS:
            continue
        parts.append(paragraph[start : match.start()].strip())
        start = match.end()
    parts.append(paragraph[start:].strip())
    return [p for p in parts if p]


def passages(paras: Sequence[str]) -> list[str]:
    """Paragraphs packed into passages of about TARGET_CHARS, closed at a paragraph end when
    possible; each passage after the first opens with the previous one's last sentence."""
    result: list[str] = []
    current: list[list[str]] = []  # paragraphs of the passage, each a list of sentences
    size = 0
    carried = False  # the passage holds only the sentence carried over from the last one

    def close() -> None:
        nonlocal current, size, carried
        if current and not carried:
            result.append("\n".join(" ".join(p) for p in current if p))
        last = current[-1][-1] if current and current[-1] else ""
        keep = 0 < len(last) <= OVERLAP_MAX_CHARS and not carried
        current = [[last]] if keep else []
        size = len(last) if keep else 0
        carried = keep

    for paragraph in paras:
        current.append([])
        for sentence in sentences(paragraph):
            if size and size + len(sentence) + 1 > MAX_CHARS:
                close()
                current.append([])
            current[-1].append(sentence)
            size += len(sentence) + 1
            carried = False
        if size >= TARGET_CHARS:
            close()
    if current and not carried:
        close()
    return result
