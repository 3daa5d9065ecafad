"""Redacting personal data from chat text: typed placeholders, counts by type.

Redact, don't drop: a turn keeps its words and loses only the number or
address in it. Digit runs (spaces or dashes allowed between digits, full-width
digits too) are classified by shape and checksum, so ordinary numbers, dates
and times stay: an ID card number needs its ISO 7064 check digit and a real
birth date, a bank card number its Luhn digit, a mobile number 11 digits
from 13x-19x, a landline a leading 0 and an area code.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

PHONE, LANDLINE, ID_CARD, BANK_CARD, EMAIL, QQ, IP, URL = (
    "<手机号>", "<座机号>", "<身份证号>", "<银行卡号>", "<邮箱>", "<QQ号>", "<IP地址>", "<网址>")

_FULLWIDTH = str.maketrans("０１２３４５６７８９＠．", "0123456789@.")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

_PATTERN = re.compile("|".join([
    r"(?P<email>[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})",
    r"(?P<url>(?:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+|www\.[A-Za-z0-9\-._~/?#@!$&'()*+,;=%]+)",
    _NOT_ALNUM_BEFORE + r"(?P<ip>(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))"
    + r"(?![0-9.])",
    r"(?P<qqlabel>(?:(?i:qq|扣扣|企鹅)号?|(?i:q)号)码?\s*(?:是|为|:|：)?\s*)(?P<qq>[1-9]\d{4,11})" + _NOT_ALNUM_AFTER,
    _NOT_ALNUM_BEFORE + r"(?P<id>\d{17}[Xx])" + _NOT_ALNUM_AFTER,
    _NOT_ALNUM_BEFORE + r"(?P<digits>\(?\+?\d(?:\)?[ -]?\(?\d){4,22})" + _NOT_ALNUM_AFTER,
]))
# Nothing to redact without 4 digits in a row (spaces, dashes, dots between allowed), an @ or a URL start;
# most chat lines have none. A text in which MAYBE_PERSONAL finds nothing comes back unchanged. It starts with
# one character class (what each alternative starts with, checked again by a look-behind) so that re skips
# ahead to those characters at C speed: three times faster than the plain alternation.
MAYBE_PERSONAL = re.compile(r"[0-9０-９@＠:wW](?:(?<=[0-9０-９])(?:[ \-().．]?[0-9０-９]){3}|(?<=[@＠])|(?<=:)//"
                            r"|(?<=[wW])[wW][wW]\.)")


def id_card_valid(number: str) -> bool:
    """18-digit resident ID: a plausible birth date and the ISO 7064 MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def classify_digits(digits: str, participants: frozenset[str]) -> str | None:
    """The placeholder for a run of digits, or None to keep it."""
    n = len(digits)
    if n == 18 and id_card_valid(digits):
        return ID_CARD
    if 16 <= n <= 19 and digits[0] in "3456" and luhn_valid(digits):
        return BANK_CARD
    if n == 13 and digits.startswith("86"):
        digits, n = digits[2:], 11
    if n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return PHONE
    if digits[0] == "0" and digits[1] != "0" and 10 <= n <= 12:
        return LANDLINE
    if digits in participants:
        return QQ
    return None


class Redactor:
    """Replaces personal data in text with typed placeholders and counts them by type."""

    def __init__(self, participants: set[str] | frozenset[str] = frozenset(), urls: bool = True,
                 counts: Counter | None = None):
        self.participants = frozenset(p for p in participants if len(p) >= 5)
        self.urls = urls
        self.counts: Counter = Counter() if counts is None else counts

    def __call__(self, text: str) -> str:
        if not MAYBE_PERSONAL.search(text):
            return text
        return _PATTERN.sub(self._replace, text.translate(_FULLWIDTH))

    def _replace(self, m: re.Match) -> str:
        kind = m.lastgroup
        if kind == "digits":
            raw = m.group("digits")
            placeholder = classify_digits(re.sub(r"\D", "", raw), self.participants)
            if placeholder is None:
                return raw
        elif kind == "qq":
            self.counts[QQ] += 1
            return m.group("qqlabel") + QQ
        elif kind == "url":
            if not self.urls:
                return m.group(0)
            placeholder = URL
        else:
            placeholder = {"email": EMAIL, "ip": IP, "id": ID_CARD}[kind]
            if kind == "id" and not id_card_valid(m.group("id")):
                return m.group(0)
        self.counts[placeholder] += 1
        return placeholder
