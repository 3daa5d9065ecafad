"""Planted personal data: every type, several spellings, inside sentences; zero survivors, no false hits."""

import re

import pytest

from qing.pii import Redactor, id_card_valid, luhn_valid


def luhn_complete(prefix: str) -> str:
    """prefix + the check digit that makes it pass Luhn."""
    for d in "0123456789":
        if luhn_valid(prefix + d):
            return prefix + d
    raise AssertionError


def id_complete(first17: str) -> str:
    for c in "0123456789X":
        if id_card_valid(first17 + c):
            return first17 + c
    raise AssertionError


BANK = luhn_complete("622202123456789012")       # 19 digits
BANK16 = luhn_complete("453201234567890")       # 16 digits
ID = id_complete("11010519900307123")
ID_X = next(x for n in range(1000) if (x := id_complete(f"44030119850612{n:03d}"))[-1] == "X")

PLANTED = [  # (text, placeholder, the secret that must not survive)
    ("我手机13812345678有事打", "<手机号>", "13812345678"),
    ("电话是 139 1234 5678 哦", "<手机号>", "139 1234 5678"),
    ("号码：150-1234-5678。", "<手机号>", "150-1234-5678"),
    ("+86 186 0000 1111 这个", "<手机号>", "186 0000 1111"),
    ("８６１３８１２３４５６７８", "<手机号>", "13812345678"),
    ("全角１５８８８８８６６６６好记", "<手机号>", "15888886666"),
    ("座机010-62345678转分机", "<座机号>", "62345678"),
    ("(0755)12345678", "<座机号>", "12345678"),
    ("打0571 8765432问问", "<座机号>", "8765432"),
    (f"身份证{ID}别外传", "<身份证号>", ID),
    (f"sfz:{ID_X.lower()}", "<身份证号>", ID_X.lower()),
    (f"卡号{BANK}转我", "<银行卡号>", BANK),
    (f"卡 {BANK16[:4]} {BANK16[4:8]} {BANK16[8:12]} {BANK16[12:]} 谢谢", "<银行卡号>", BANK16[4:8]),
    ("发我邮箱zhang.san_01@example.com好吗", "<邮箱>", "zhang.san_01@example.com"),
    ("邮箱：12345678@qq.com", "<邮箱>", "12345678@qq.com"),
    ("全角邮箱abc＠test.cn看看", "<邮箱>", "abc"),
    ("加我QQ：987654321", "<QQ号>", "987654321"),
    ("我的q号是 11223344", "<QQ号>", "11223344"),
    ("扣扣 5566778899 常在", "<QQ号>", "5566778899"),
    ("他就是20002呀", "<QQ号>", "20002"),  # a participant's uin
    ("服务器 10.0.0.25 挂了", "<IP地址>", "10.0.0.25"),
    ("连192.168.1.1试试", "<IP地址>", "192.168.1.1"),
    ("看这个https://example.com/path?a=1&b=2哈哈", "<网址>", "example.com"),
    ("www.example.org 上有", "<网址>", "example.org"),
]

ORDINARY = [
    "2023-11-15 12:30 见", "20231115", "2024年3月8日下午3点", "12:30", "100块钱", "第3名", "版本1.2.3",
    "考了98.5分", "3.14159", "门牌1203", "价格1,299元", "1234567", "房间号 8808", "666", "哈哈哈 233333",
    "订单2024111512345", "身份证号码18位", "11点半", "1999年", "9.9元包邮", "编号 A1234567",
    "01234", "12345678901234567890123",
]


@pytest.mark.parametrize("text, placeholder, secret", PLANTED)
def test_planted_pii_is_redacted_with_its_type(text, placeholder, secret):
    redact = Redactor({"20002", "10001"})
    out = redact(text)
    assert placeholder in out, out
    assert secret not in out and secret.translate(str.maketrans("０１２３４５６７８９", "0123456789")) not in out
    assert redact.counts[placeholder] == 1


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_dates_and_times_stay(text):
    redact = Redactor({"20002"})
    assert redact(text) == text
    assert not redact.counts


def test_no_digit_survives_in_a_long_planted_paragraph():
    redact = Redactor({"20002"})
    paragraph = "，".join(t for t, _, _ in PLANTED)
    out = redact(paragraph)
    assert not re.search(r"\d{5,}", out.replace(" ", "").replace("-", "")), out
    assert sum(redact.counts.values()) == len(PLANTED)


def test_urls_can_be_kept():
    assert Redactor(urls=False)("看https://example.com/x") == "看https://example.com/x"


def test_checksums():
    assert id_card_valid(ID) and not id_card_valid(ID[:-1] + ("0" if ID[-1] != "0" else "1"))
    assert luhn_valid(BANK) and not luhn_valid(BANK[:-1] + str((int(BANK[-1]) + 1) % 10))
