"""Planted personal data: every type, several spellings, inside sentences; zero survivors, no false hits."""

import re
from collections import Counter

import pytest

from qing.dataset.pii import Redactor, id_card_valid, luhn_valid


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
    # near the shapes added for issue 18
    "18:30", "10:30:45", "2024年3月15日", "3月15号见", "2023.11.15", "2024/03/15", "2024_03_15", "版本v1.2.3",
    "Python 3.11.7", "1.0.0.1234", "std::vector", "a::b", "一三五去健身", "星期一三五有空", "一二三四五六七八九十",
    "一三八一二三四五六七", "三五成群", "第一二三名", "what a cat", "that dotted line", "look at that", "I am at home",
    "上baidu.com查", "github.com/foo/bar", "看 example.org 吧", "我在人民路等你", "12路公交", "在15号楼", "3号线",
    "群里有12345条消息", "微信 hello", "加个微信呗", "微信支付", "G1234次列车", "E座1203", "A12345", "京东618",
    "订单 202411151234567", "价格1,299.00元", "1080p", "100%", "下午3点半到", "6点com", "ipv6 ::1",
    "iPhone 15", "RTX 4090", "CSGO", "OK啦", "WWDC", "vlog", "wow", "一点", "三点",
]


def assert_redacted(text: str, placeholder: str, secret: str, participants=frozenset({"20002", "10001"})) -> str:
    redact = Redactor(participants)
    out = redact(text)
    assert placeholder in out, out
    assert secret not in out and secret.translate(str.maketrans("０１２３４５６７８９", "0123456789")) not in out, out
    assert redact.counts == {placeholder: 1}, redact.counts
    return out


@pytest.mark.parametrize("text, placeholder, secret", PLANTED)
def test_planted_pii_is_redacted_with_its_type(text, placeholder, secret):
    assert_redacted(text, placeholder, secret)


# Spellings that leaked before (issue 18): each group is one category.

@pytest.mark.parametrize("text, secret", [
    ("联系我0086 136 1234 5678", "1234 5678"), ("打008613612345678", "13612345678"),
    ("电话135.1234.5678哦", "135.1234.5678"), ("138/1234/5678", "1234/5678"), ("号码138_1234_5678好记", "5678"),
])
def test_mobile_numbers_with_0086_dots_slashes_underscores(text, secret):
    assert_redacted(text, "<手机号>", secret)


@pytest.mark.parametrize("text, secret", [
    ("身份证110105900307123别外传", "110105900307123"), ("老号码 440301850612345", "440301850612345"),
])
def test_first_generation_15_digit_id_numbers(text, secret):
    assert_redacted(text, "<身份证号>", secret)


BANK_DOTTED = luhn_complete("622202123456789")  # 16 digits


@pytest.mark.parametrize("text, secret", [
    (f"卡号{'.'.join(BANK_DOTTED[i:i + 4] for i in range(0, 16, 4))}转我", BANK_DOTTED[4:8]),
    (f"{'.'.join([BANK[:4], BANK[4:8], BANK[8:12], BANK[12:16], BANK[16:]])}", BANK[8:12]),
])
def test_bank_cards_written_with_dots(text, secret):
    assert_redacted(text, "<银行卡号>", secret)


@pytest.mark.parametrize("text, secret", [
    ("服务器 2001:0db8:85a3:0000:0000:8a2e:0370:7334 挂了", "8a2e"), ("连2001:db8::8a2e:370:7334试试", "db8"),
    ("本机fe80::1ff:fe23:4567:890a看看", "fe23"), ("IPv6是240e:3a1:4b2:c10::5呀", "240e"),
])
def test_ipv6_addresses(text, secret):
    assert_redacted(text, "<IP地址>", secret)


@pytest.mark.parametrize("text, secret", [
    ("看example.org/s?key=a1b2c3d4哈哈", "a1b2c3d4"), ("点开 share.example.cn/v/x?token=abcdef&uid=1 就行", "abcdef"),
    ("https://例子.中国/a?token=secret123哈哈", "secret123"),
    ("ｈｔｔｐｓ://example.com/a?token=secret123", "secret123"),
    ("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ／ａ？ｔｏｋｅｎ＝ｓｅｃｒｅｔ，好", "ｓｅｃｒｅｔ"),
])
def test_urls_without_scheme_with_non_ascii_host_or_full_width(text, secret):
    out = assert_redacted(text, "<网址>", secret)
    assert out[-1] == text[-1] or text[-1].isalnum()  # the words after the URL stay


@pytest.mark.parametrize("text, secret", [
    ("微信号 abc_123 加我", "abc_123"), ("vx: wxid_k2j3h4g5f6d7", "k2j3h4g5f6d7"),
    ("微信：xiaoqing2024", "xiaoqing2024"),
    ("V信 qing_xiao88 哦", "qing_xiao88"), ("wx号是Qing-1999", "Qing-1999"), ("微信是 xiaoqing 快加", "xiaoqing"),
    ("直接搜 wxid_abcd1234efgh", "abcd1234efgh"),
])
def test_wechat_ids_after_a_label(text, secret):
    assert_redacted(text, "<微信号>", secret)


@pytest.mark.parametrize("text, secret", [
    ("群号：823456789", "823456789"), ("加群 82345678 吧", "82345678"), ("QQ群号是 1234567890", "1234567890"),
    ("Q群：66778899", "66778899"),
])
def test_group_numbers_after_a_label(text, secret):
    out = assert_redacted(text, "<群号>", secret)
    assert "群" in out


@pytest.mark.parametrize("text, secret", [
    ("车牌京A12345停在楼下", "A12345"), ("我车是粤B·D12345", "D12345"), ("沪AD12345 那辆", "D12345"),
    ("浙A·8B8C8", "8B8C8"), ("川A12345F", "12345"),
])
def test_chinese_licence_plates(text, secret):
    assert_redacted(text, "<车牌号>", secret)


@pytest.mark.parametrize("text, secret", [
    ("护照号：E12345678", "E12345678"), ("护照 G87654321 别丢", "G87654321"), ("她的E87654321还在我这", "E87654321"),
    ("护照号码是PE1234567", "PE1234567"), ("护照：123456789", "123456789"),
])
def test_passport_numbers(text, secret):
    assert_redacted(text, "<护照号>", secret)


@pytest.mark.parametrize("text, secret", [
    ("我家在杭州市西湖区文三路123号，来吧", "文三路123号"), ("住在幸福街道阳光小区5栋302，来玩", "阳光小区5栋302"),
    ("寄到朝阳区建国路88号院3号楼2单元501室", "建国路88号"), ("送到人民路12号", "人民路12号"),
    ("地址：某某市某某区花园路 7 号 3 栋", "花园路 7 号"),
])
def test_street_addresses(text, secret):
    out = assert_redacted(text, "<地址>", secret)
    assert out[:2] == text[:2]  # the sentence before the address stays


@pytest.mark.parametrize("text, secret", [
    ("邮箱 xiaoqing at 163 dot com", "xiaoqing"), ("xiaoqing艾特163点com", "xiaoqing"),
    ("发 qing.xiao (at) example (dot) org 吧", "qing.xiao"), ("zhang_san [at] gmail [dot] com", "zhang_san"),
    ("写 xiaoqing at 163.com", "xiaoqing"),
])
def test_e_mails_spelled_out(text, secret):
    assert_redacted(text, "<邮箱>", secret)


@pytest.mark.parametrize("text, secret", [
    ("我号码一三八一二三四五六七八", "一三八一二三四五六七八"), ("幺三八幺二三四五六七八记一下", "幺二三四五六七八"),
    ("打一五九 零零零零 一一一一", "零零零零"),
])
def test_mobile_numbers_in_chinese_digits(text, secret):
    assert_redacted(text, "<手机号>", secret)


def test_kept_digit_runs_are_noted_for_other_chats_people():
    kept = Counter()
    redact = Redactor({"20002"}, kept=kept)
    assert redact("你加一下2718281828吧，或者加 2718 281828，他是20002") == \
        "你加一下2718281828吧，或者加 2718 281828，他是<QQ号>"
    assert kept == {"2718281828": 1, "2718 281828": 1}


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
