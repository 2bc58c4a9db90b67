#!/usr/bin/python3
"""make_corpus - writes the Japanese test messages of tests/corpus/ja.

Run it from anywhere (/usr/bin/python3 tests/corpus/ja/make_corpus.py);
the .eml files it writes are committed, so the tests never depend on
this script or on Python's codecs.  Each message is as a Japanese mail
client (or a broken one) writes it; NAME.subject holds the subject the
list must show after adding its prefix, in UTF-8.  The expected output
of each, NAME.out, is made by tests/check_listmail with
MLS_CORPUS_UPDATE=1 and checked by reading it, once; from then on both
check_listmail and test_listmail.py compare byte for byte.
"""

import base64
import os
import quopri
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from harness import cp50220_encode, encode_words  # noqa: E402

FROM = "taro@members.example.jp"
TO = "corpus@lists.example.org"


def jis_kana(text):
    """ISO-2022-JP with half-width katakana as ESC ( I (CP50221)."""
    out = bytearray()
    mode = "ascii"
    for ch in text:
        o = ord(ch)
        if 0xFF61 <= o <= 0xFF9F:
            if mode != "kana":
                out += b"\x1b(I"
                mode = "kana"
            out.append(o - 0xFF61 + 0x21)
            continue
        if o < 0x80:
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out += ch.encode("ascii")
            continue
        if mode != "jis":
            out += b"\x1b$B"
            mode = "jis"
        out += cp50220_encode(ch)[3:-3]
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)


def word(raw, charset, enc="B"):
    if enc == "B":
        return "=?%s?B?%s?=" % (charset, base64.b64encode(raw).decode())
    q = "".join("=%02X" % b if b > 0x7E or b in b"=?_ \t" or b < 0x20
        else chr(b) for b in raw)
    return "=?%s?Q?%s?=" % (charset, q)


def head(subject, n, extra=()):
    lines = [
        "From: =?ISO-2022-JP?B?%s?= <%s>" % (
            base64.b64encode(cp50220_encode("山田太郎")).decode(), FROM),
        "To: %s" % TO,
        "Subject: %s" % subject,
        "Date: Sun, 22 Nov 2026 10:%02d:00 +0900" % n,
        "Message-ID: <corpus-%d@members.example.jp>" % n,
    ]
    lines += list(extra)
    return ("\n".join(lines) + "\n").encode("ascii") if all(
        isinstance(x, str) for x in lines) else None


def write(name, header, body, subject):
    data = header + b"\n" + body
    with open(os.path.join(HERE, name + ".eml"), "wb") as f:
        f.write(data.replace(b"\n", b"\r\n"))
    with open(os.path.join(HERE, name + ".subject"), "w",
            encoding="utf-8") as f:
        f.write(subject + "\n")


def main():
    n = 0

    # 1. ISO-2022-JP as Windows writes it: NEC row 13 and IBM kanji.
    n += 1
    s = "Re: [世田谷] ①定例会の件（㈱髙島屋さま）"
    write("jis-cp50220", head(word(cp50220_encode(s), "ISO-2022-JP"), n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        "Content-Transfer-Encoding: 7bit"]),
        cp50220_encode("皆さま\n\n①次回は12月5日です。\n㈱髙島屋さまにも"
            "お声がけします。\n") + b"\n",
        "[世田谷] Re: ①定例会の件（㈱髙島屋さま）")

    # 2. Half-width katakana in subject and body (ESC ( I).
    n += 1
    s = "ｶﾀｶﾅの件名 ﾃｽﾄ"
    write("jis-halfwidth", head(word(jis_kana(s), "ISO-2022-JP"), n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-2022-JP"]),
        jis_kana("ﾊﾝｶｸｶﾀｶﾅの本文です。\n") + b"\n",
        "[世田谷] ｶﾀｶﾅの件名 ﾃｽﾄ")

    # 3. Shift_JIS body, subject in Shift_JIS encoded words.
    n += 1
    s = "RE: 会場の予約について①"
    write("sjis", head(word(s.encode("cp932"), "Shift_JIS"), n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=Shift_JIS",
        "Content-Transfer-Encoding: 8bit"]),
        "会場は区民会館です。①②③、髙橋より。\n".encode("cp932"),
        "[世田谷] Re: 会場の予約について①")

    # 4. EUC-JP body, subject in EUC-JP Q words.
    n += 1
    s = "Fwd: 回覧のお知らせ"
    write("eucjp", head(word(s.encode("euc-jp"), "EUC-JP", "Q"), n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=EUC-JP",
        "Content-Transfer-Encoding: 8bit"]),
        "回覧板をお回しします。\n".encode("euc-jp"),
        "[世田谷] Fwd: 回覧のお知らせ")

    # 5. Folded, mixed encoded words; UTF-8 split inside a character.
    n += 1
    u = "議事録".encode("utf-8")
    subj = ("Re: " + word(cp50220_encode("【重要】"), "ISO-2022-JP") +
        "\n " + word(u[:4], "UTF-8") + " " + word(u[4:], "UTF-8", "Q") +
        "\n (" + word("第3回".encode("euc-jp"), "euc-jp") + ") AW: end")
    write("folded-mixed", head(subj, n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 8bit"]),
        "議事録を添付します。\n".encode("utf-8"),
        "[世田谷] Re: 【重要】議事録 (第3回) AW: end")

    # 6-8. No MIME at all: raw 8-bit subject and body.
    for i, (name, cs, text) in enumerate((
            ("unlabeled-sjis", "cp932", "返信: 夏祭りの準備"),
            ("unlabeled-eucjp", "euc-jp", "Re[2]: 夏祭りの準備"),
            ("unlabeled-utf8", "utf-8", "Re: Re: 夏祭りの準備"))):
        n += 1
        h = ("From: %s\nTo: %s\nSubject: " % (FROM, TO)).encode() + \
            text.encode(cs) + ("\nDate: Sun, 22 Nov 2026 10:%02d:00 +0900\n"
            "Message-ID: <corpus-%d@members.example.jp>\n" % (n, n)).encode()
        write(name, h, "準備の分担表です。\nよろしくお願いします。\n"
            .encode(cs), "[世田谷] Re: 夏祭りの準備")

    # 9. A long subject: folded, every word within 75 octets.
    n += 1
    s = ("令和八年度　世田谷パートナーズの会　第十二回定例会議の開催日程と"
        "会場（区民会館第二会議室）についてのご案内およびご出欠のお願い")
    write("long-subject", head(encode_words(s, "iso-2022-jp").replace(
        "\r\n", "\n"), n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-2022-JP"]),
        cp50220_encode("日程のご案内です。\n"), "[世田谷] " + s)

    # 10. UTF-8 in base64, CRLF line ends inside.
    n += 1
    write("base64-utf8", head(word("会報 12月号".encode(), "UTF-8"), n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=\"utf-8\"",
        "Content-Transfer-Encoding: base64"]),
        base64.encodebytes("会報12月号をお届けします。\r\n髙橋\r\n"
            .encode()),
        "[世田谷] 会報 12月号")

    # 11. UTF-8 quoted-printable, ending with a soft line break.
    n += 1
    qp = quopri.encodestring("防災訓練のお知らせです。".encode()) + b"=\n"
    write("qp-utf8", head("=?utf-8?q?=E9=98=B2=E7=81=BD=E8=A8=93=E7=B7=B4?=",
        n, ["MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: quoted-printable"]), qp,
        "[世田谷] 防災訓練")

    # 12. multipart/mixed: ISO-2022-JP text and a PDF.
    n += 1
    body = (b"--B1\nContent-Type: text/plain; charset=ISO-2022-JP\n\n" +
        cp50220_encode("資料を添付します。\n") +
        b"\n--B1\nContent-Type: application/pdf; name=\"a.pdf\"\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--B1--\n")
    write("jis-mixed", head(word(cp50220_encode("資料送付"), "ISO-2022-JP"),
        n, ["MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"B1\""]), body,
        "[世田谷] 資料送付")

    # 13. multipart/alternative (text and HTML): wrapped.
    n += 1
    body = (b"--A1\nContent-Type: text/plain; charset=UTF-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + "お知らせ\n".encode() +
        b"\n--A1\nContent-Type: text/html; charset=UTF-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n" +
        "<p>お知らせ</p>\n".encode() + b"\n--A1--\n")
    write("alternative", head(word("お知らせ".encode(), "UTF-8"), n, [
        "MIME-Version: 1.0",
        "Content-Type: multipart/alternative; boundary=\"A1\""]), body,
        "[世田谷] お知らせ")

    # 14. multipart/signed: never touched.
    n += 1
    body = (b"--S1\nContent-Type: text/plain; charset=ISO-2022-JP\n\n" +
        cp50220_encode("署名付きです。\n") +
        b"\n--S1\nContent-Type: application/pgp-signature\n\n"
        b"-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n"
        b"\n--S1--\n")
    write("signed", head(word(cp50220_encode("署名"), "ISO-2022-JP"), n, [
        "MIME-Version: 1.0",
        "Content-Type: multipart/signed; boundary=\"S1\"; "
        "protocol=\"application/pgp-signature\"; micalg=pgp-sha256"]),
        body, "[世田谷] 署名")

    # 15. US-ASCII text and a Japanese footer: a separate part.
    n += 1
    write("ascii", head("Re: [setagaya] meeting", n, [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii"]),
        b"See you on Saturday.\n", "[世田谷] Re: [setagaya] meeting")


if __name__ == "__main__":
    main()
