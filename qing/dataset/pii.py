"""Redacting personal data from chat text: typed placeholders, counts by type.

Redact, don't drop: a turn keeps its words and loses only the number or
address in it. Digit runs (spaces, dashes - or dots, slashes, underscores
used alike between groups - and full-width digits too) are classified by
shape and checksum, so ordinary numbers, dates and times stay: an ID card
number needs its ISO 7064 check digit (18 digits) or a plausible area code
(15 digits) and a real birth date, a bank card number its Luhn digit, a
mobile number 11 digits from 13x-19x (also spelled in Chinese digits), a
landline a leading 0 and an area code. Numbers without a shape of their own
(QQ, WeChat, group, passport numbers) need a label before them (`微信号`,
`群号：`), except QQ numbers of the people of the chats read and passports of
the E/G + 8 digits shape.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

PHONE, LANDLINE, ID_CARD, BANK_CARD, EMAIL, QQ, IP, URL = (
    "<手机号>", "<座机号>", "<身份证号>", "<银行卡号>", "<邮箱>", "<QQ号>", "<IP地址>", "<网址>")
WECHAT, GROUP, PLATE, PASSPORT, ADDRESS = "<微信号>", "<群号>", "<车牌号>", "<护照号>", "<地址>"

_FULLWIDTH = str.maketrans("０１２３４５６７８９＠．", "0123456789@.")
_CHINESE_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 "
                          "64 65 71 81 82".split())
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_LABEL_END = r"\s*(?:是|为|:|：)?\s*"
_CN_DIGIT = "[零〇一幺二两三四五六七八九]"
_HEX = "[0-9A-Fa-f]{1,4}"
_URL_CHARS = r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]|[０-９Ａ-Ｚａ-ｚ．／＝＆％＿－＃]|？(?=[^\s？]*[=＝]))"
_PROVINCE = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
_PLATE_LETTER = "[A-HJ-NP-Z]"  # no I or O
# a character of a place name: not a word that comes before an address (我住在, 寄到), nor a unit (so that a name
# and its unit split one way only: no backtracking through the ways)
_PLACE = (r"[^\W\d_A-Za-z我你您他她它们在住是的了到去来从和跟给把被寄发送填写址家就都也还要想说这那哪个啊吧呢吗哦呀嘛"
          r"省市区县镇乡路街巷弄号栋幢座楼层室]")
_ADMIN_UNIT = _PLACE + r"{1,8}?(?:省|自治区|市|区|县|镇|乡|街道)"
_NUMBER = r"\s*\d{1,5}(?:-\d{1,5})?\s*"
_ADDRESS = ("(?:" + _ADMIN_UNIT + ")*(?:"
            + _PLACE + r"{1,8}?(?:路|街|大道|巷|弄|胡同)" + _NUMBER + r"(?:号|弄)(?:院|楼)?"
            + r"(?:" + _NUMBER + r"(?:号楼|栋|幢|座|单元|楼|层|室|号))*"
            + "|" + _PLACE + r"{1,8}?(?:小区|花园|公寓|大厦|新村|家园|社区|苑|村)" + _NUMBER + r"(?:号楼|栋|幢|座)"
            + r"(?:" + _NUMBER + r"(?:单元|楼|层|室|号))*(?:\s*\d{2,5}(?![\d号]))?)")
_SPELLED_AT = r"(?:\s+(?i:at)\s+|\s*[(\[]\s*(?i:at)\s*[)\]]\s*|\s*艾特\s*)"
_SPELLED_DOT = r"(?:\s+(?i:dot)\s+|\s*[(\[]\s*(?i:dot)\s*[)\]]\s*|\s*点\s*|\.)"
_TLD = r"(?i:com|cn|net|org|edu|gov|io|me|cc|top|xyz|info|hk|tw)(?![A-Za-z])"

_PATTERN = re.compile("|".join([
    r"(?P<email>[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})",
    r"(?P<url>(?:[hHｈＨ][tTｔＴ][tTｔＴ][pPｐＰ][sSｓＳ]?|[fF][tT][pP])[:：][/／]{2}"
    r"(?:[A-Za-z0-9\-._~:@\[\]]+|[\w\-．]+(?:[.．][\w\-]+)+)(?:[/?#／？＃]" + _URL_CHARS + "*)?"
    r"|www\.[A-Za-z0-9\-._~/?#@!$&'()*+,;=%]+"
    r"|(?<![A-Za-z0-9_.@/-])(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?/[A-Za-z0-9\-._~/%]*\?[A-Za-z0-9\-._~%]+="
    r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)",
    r"(?<![0-9A-Za-z_])(?P<wxid>wxid_[A-Za-z0-9_-]{4,})",
    r"(?P<wxlabel>(?:微信|[薇威]信|(?<![A-Za-z])(?i:v信|vx|wx|weixin|wechat))"
    r"(?:(?:号|(?i:id))?\s*[是为:：]\s*|(?:号|(?i:id))\s*|\s*(?=[A-Za-z]*[-_0-9])))"  # bare label: not a plain word
    r"(?P<wechat>[A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])",
    r"(?P<grouplabel>(?:(?i:qq)|[Qq扣])?群(?:号码?)?" + _LABEL_END + r")(?P<group>[1-9]\d{4,11})(?!\d)",
    r"(?P<qqlabel>(?:(?i:qq|扣扣|企鹅)号?|(?i:q)号)码?" + _LABEL_END + r")(?P<qq>[1-9]\d{4,11})" + _NOT_ALNUM_AFTER,
    r"(?P<passlabel>护照(?:号码?)?" + _LABEL_END + r")(?P<passport>[A-Za-z]{1,2}\d{7,8}|\d{9})" + _NOT_ALNUM_AFTER,
    _NOT_ALNUM_BEFORE + r"(?P<passport_shape>[EG]\d{8})" + _NOT_ALNUM_AFTER,
    r"(?P<plate>" + _PROVINCE + _PLATE_LETTER + r"[·•・.．\s]?(?:[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF]"
    r"|(?=(?:[A-HJ-NP-Z]*\d){3})[A-HJ-NP-Z0-9]{5}))" + _NOT_ALNUM_AFTER,
    r"(?<![0-9A-Za-z:])(?P<ip6>(?:" + _HEX + ":){7}" + _HEX + "|(?=[:0-9A-Fa-f]*[0-9A-Fa-f]{3})(?=[:A-Fa-f]*\\d)"
    + _HEX + "(?::" + _HEX + "){0,6}::(?:" + _HEX + "(?::" + _HEX + "){0,6})?)(?![0-9A-Za-z:])",
    _NOT_ALNUM_BEFORE + r"(?P<ip>(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))"
    + r"(?![0-9.])",
    _NOT_ALNUM_BEFORE + r"(?P<id>\d{17}[Xx])" + _NOT_ALNUM_AFTER,
    _NOT_ALNUM_BEFORE + r"(?P<grouped>\d{3,4}(?P<sep>[./_])\d{4}(?:(?P=sep)\d{3,4}){1,3})(?![0-9A-Za-z]|[./_]\d)",
    _NOT_ALNUM_BEFORE + r"(?P<digits>\(?\+?\d(?:\)?[ -]?\(?\d){4,22})" + _NOT_ALNUM_AFTER,
]))
# Shapes that would slow the pattern above at every position run only on texts that hold their hint: a place
# name's suffix before a number, a spelled @, a mobile number's start in Chinese digits.
_PLACE_END = "[路街道巷弄同区园寓厦村苑]"
_STREET_NUMBER = _PLACE_END + r"\s?[0-9０-９]"
_SPELLED_AT_HINT = r"艾特|[\s(\[][aA][tT][\s)\]]"
_CN_MOBILE_START = r"[一幺][三四五六七八九](?:\s?" + _CN_DIGIT + "){3}"
_GATED = [(re.compile(_SPELLED_AT_HINT), re.compile(
              r"(?<![A-Za-z0-9._%+-])(?P<spelled>[A-Za-z0-9][A-Za-z0-9._%+-]*" + _SPELLED_AT + r"[A-Za-z0-9-]+(?:"
              + _SPELLED_DOT + r"[A-Za-z0-9-]+)*?" + _SPELLED_DOT + _TLD + ")")),
          (re.compile(_STREET_NUMBER), re.compile(r"(?P<address>" + _ADDRESS + ")")),
          (re.compile(_CN_MOBILE_START), re.compile(
              f"(?P<cnphone>[一幺](?<!{_CN_DIGIT}[一幺])[三四五六七八九](?:\\s?{_CN_DIGIT}){{9}})(?!{_CN_DIGIT})"))]
# Nothing to redact without 4 digits in a row (spaces, dashes, dots, slashes between allowed), a number after a
# place name (an address), an @, a URL start, a query (?key=), `::` (IPv6), a label (微信, vx), a licence plate's
# province and letter, a spelled @ (at, 艾特) or a mobile number in Chinese digits; most chat lines have none. A text
# in which MAYBE_PERSONAL finds nothing comes back unchanged. It starts with one character class (what each
# alternative starts with, checked again by a look-behind) so that re skips ahead to those characters at C speed:
# three times faster than the plain alternation; the alternatives are grouped by that character, so that a stop
# (a letter, a digit) tries a few of them only.
MAYBE_PERSONAL = re.compile(
    r"[0-9０-９@＠:：A-Zavw?微威薇艾三四五六七八九]"
    r"(?:(?<=[0-9０-９])(?:(?:[ \-().．/_]?[0-9０-９]){3}|(?<=" + _PLACE_END + "[0-9０-９])"
    r"|(?<=" + _PLACE_END + r"\s[0-9０-９]))"
    r"|(?<=[A-Zavw?])(?:(?<=[wW])(?:[wW][wW]\.|xid_|[xX信]|eixin|e[cC]hat)|(?<=[vV])[xX信]"
    r"|(?<=" + _PROVINCE + _PLATE_LETTER + r")[·•・.．\s]?[A-HJ-NP-Z0-9]{5}|(?<=[\s(\[][aA])[tT][\s)\]]"
    r"|(?<=[A-Za-z0-9_.~%/-]\?)[A-Za-z0-9_.~%-]+=)"
    r"|(?<=[三四五六七八九])(?<=[一幺][三四五六七八九])(?:\s?" + _CN_DIGIT + "){3}"
    r"|(?<=[@＠])|(?<=[:：])(?:[/／]{2}|:)|(?<=:)[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:|(?<=[威薇微])信|(?<=艾)特)")


def id_card_valid(number: str) -> bool:
    """Resident ID: 18 digits with a plausible birth date and the ISO 7064 MOD 11-2 check character, or the
    first generation's 15 digits (no check digit) with a province code and a birth date YYMMDD of the 1900s."""
    if len(number) == 15 and number.isdigit():
        return number[:2] in _ID_PROVINCES and _is_date(1900 + int(number[6:8]), number[8:10], number[10:12])
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if not (1900 <= int(number[6:10]) <= 2100 and _is_date(int(number[6:10]), number[10:12], number[12:14])):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def _is_date(year: int, month: str, day: str) -> bool:
    try:
        date(year, int(month), int(day))
    except ValueError:
        return False
    return True


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
    if n in (15, 18) and id_card_valid(digits):
        return ID_CARD
    if 16 <= n <= 19 and digits[0] in "3456" and luhn_valid(digits):
        return BANK_CARD
    if n == 15 and digits.startswith("0086"):
        digits, n = digits[4:], 11
    elif n == 13 and digits.startswith("86"):
        digits, n = digits[2:], 11
    if n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return PHONE
    if digits[0] == "0" and digits[1] != "0" and 10 <= n <= 12:
        return LANDLINE
    if digits in participants:
        return QQ
    return None


_LABELLED = {"qq": ("qqlabel", QQ), "wechat": ("wxlabel", WECHAT), "group": ("grouplabel", GROUP),
             "passport": ("passlabel", PASSPORT)}
_WHOLE = {"email": EMAIL, "spelled": EMAIL, "ip": IP, "ip6": IP, "wxid": WECHAT, "passport_shape": PASSPORT,
          "plate": PLATE, "address": ADDRESS}


class Redactor:
    """Replaces personal data in text with typed placeholders and counts them by type.

    `kept`, if given, counts the digit runs kept that could be a QQ number of someone outside `participants`
    (5 to 12 digits, no leading 0), as they are written in the text returned: clean learns everyone who
    speaks in any chat only at the end, and redacts these then (clean.redact_numbers_of_others).
    """

    def __init__(self, participants: set[str] | frozenset[str] = frozenset(), urls: bool = True,
                 counts: Counter | None = None, kept: Counter | None = None):
        self.participants = frozenset(p for p in participants if len(p) >= 5)
        self.urls = urls
        self.counts: Counter = Counter() if counts is None else counts
        self.kept = kept

    def __call__(self, text: str) -> str:
        if not MAYBE_PERSONAL.search(text):
            return text
        text = text.translate(_FULLWIDTH)
        for hint, pattern in _GATED:
            if hint.search(text):
                text = pattern.sub(self._replace, text)
        return _PATTERN.sub(self._replace, text)

    def _replace(self, m: re.Match) -> str:
        kind = m.lastgroup
        if kind in ("digits", "grouped"):
            raw = m.group(0)
            digits = re.sub(r"\D", "", raw)
            placeholder = classify_digits(digits, self.participants)
            if placeholder is None:
                if self.kept is not None and 5 <= len(digits) <= 12 and digits[0] != "0":
                    self.kept[raw] += 1
                return raw
        elif kind in _LABELLED:
            label, placeholder = _LABELLED[kind]
            self.counts[placeholder] += 1
            return m.group(label) + placeholder
        elif kind == "cnphone":
            placeholder = classify_digits(re.sub(r"\s", "", m.group(0)).translate(_CHINESE_DIGITS), frozenset())
            if placeholder != PHONE:
                return m.group(0)
        elif kind == "url":
            if not self.urls:
                return m.group(0)
            placeholder = URL
        elif kind == "id":
            if not id_card_valid(m.group("id")):
                return m.group(0)
            placeholder = ID_CARD
        else:
            placeholder = _WHOLE[kind]
        self.counts[placeholder] += 1
        return placeholder
