#!/usr/bin/python3
"""generate.py - write the generated part of the hostile-input corpus.

    /usr/bin/python3 tests/corpus/hostile/generate.py [DIR]

Writes gen-*.eml into DIR (default: this directory), deterministically,
so the committed files can be regenerated and reviewed.  The hand-written
messages are hand-*.eml beside them.  The big messages (a 1 MB header
line, 10,000 header fields, multipart nested 20,000 deep, a 50 MB
attachment) are not committed: the
test makes them at run time with big_messages() below.

Each file may begin with a line "X-Corpus-To: ADDRESS" naming the
recipient the test gives it (default: the open list meguro); the test
strips that line before sending.  Everything else is the message as
sent, byte for byte (line ends included).
"""

import base64
import os
import sys

D = "lists.example.org"
M = "members.example.jp"
HERE = os.path.dirname(os.path.abspath(__file__))


def hdr(frm="a@%s" % M, to="meguro@%s" % D, subject="hostile",
        extra=b""):
    h = b""
    if frm is not None:
        h += b"From: " + (frm if isinstance(frm, bytes) else frm.encode()) \
            + b"\r\n"
    h += b"To: " + to.encode() + b"\r\n"
    if subject is not None:
        h += b"Subject: " + (subject if isinstance(subject, bytes)
            else subject.encode()) + b"\r\n"
    h += b"Message-ID: <corpus@example.jp>\r\nMIME-Version: 1.0\r\n"
    return h + extra


def msg(rcpt=None, **kw):
    body = kw.pop("body", b"body\r\n")
    if isinstance(body, str):
        body = body.encode()
    data = hdr(**kw) + b"\r\n" + body
    if rcpt:
        data = ("X-Corpus-To: %s\r\n" % rcpt).encode() + data
    return data


def nested(depth, text=b"innermost\r\n", close=True):
    """multipart/mixed nested depth levels deep."""
    out = b""
    for i in range(depth):
        out += b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" \
            b"--b%d\r\n" % (i, i)
    out += b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    if close:
        for i in reversed(range(depth)):
            out += b"\r\n--b%d--\r\n" % i
    return out


def generated():
    g = {}
    b64 = lambda s: base64.b64encode(s.encode() if isinstance(s, str)
        else s).decode()

    # -- no From
    g["nofrom-plain"] = msg(frm=None)
    g["nofrom-nosubject"] = msg(frm=None, subject=None)
    g["nofrom-sender"] = msg(frm=None, extra=b"Sender: s@%s\r\n" % M.encode())
    g["nofrom-request"] = msg("meguro-request@" + D, frm=None,
        body="subscribe\r\n")
    g["nofrom-join"] = msg("meguro-join@" + D, frm=None)
    g["from-empty"] = msg(frm="")
    g["from-blank-folded"] = msg(frm=" \r\n \r\n")
    g["from-angle-only"] = msg(frm="<>")
    g["from-no-at"] = msg(frm="nobody")
    g["from-garbage"] = msg(frm="\"unterminated <a@b")

    # -- 8-bit and NUL in headers
    for name, raw in (("sjis", "山田です".encode("cp932")),
            ("eucjp", "山田です".encode("euc-jp")),
            ("utf8", "山田です".encode()), ("latin1", "café".encode("latin-1")),
            ("badutf8", b"\xc3\x28\xe2\x28\xa1\xf0\x28\x8c\xbc\xff\xfe"),
            ("c1", bytes(range(0x80, 0xa0)))):
        g["8bit-subject-" + name] = msg(subject=raw)
        g["8bit-fromname-" + name] = msg(frm=raw + b" <a@" + M.encode()
            + b">")
        g["8bit-request-" + name] = msg("meguro-request@" + D, subject=raw,
            body=raw + b"\r\nhelp\r\n")
    g["8bit-headername"] = msg(extra=b"X-\xe5\xb1\xb1: v\r\n")
    g["8bit-localpart"] = msg(frm=b"\xe5\xb1\xb1@" + M.encode())
    for i, where in enumerate((b"Subject: a\0b\r\n", b"From: a\0@" +
            M.encode() + b"\r\n", b"X-Nul: \0\0\0\r\n", b"\0: x\r\n",
            b"Content-Type: text/plain; charset=utf\0-8\r\n",
            b"To: meguro@lists.example.org\0\r\n")):
        g["nul-header-%d" % i] = hdr(subject="nul") + where + \
            b"\r\nbody\r\n"
    g["nul-body"] = msg(body=b"a\0b\r\n\0\r\n")
    g["nul-request"] = msg("meguro-request@" + D, body=b"sub\0scribe\r\n")
    g["controls-subject"] = msg(subject=bytes(range(1, 32)).replace(b"\r",
        b"").replace(b"\n", b""))
    g["escape-subject"] = msg(subject=b"\x1b$B$3$s\x1b(B \x1b$Bunterminated")

    # -- multipart nesting
    for depth in (1, 2, 10, 50, 100, 199, 200, 201):
        g["nested-%03d" % depth] = hdr() + nested(depth)
    g["nested-200-unclosed"] = hdr() + nested(200, close=False)
    g["nested-200-request"] = b"X-Corpus-To: meguro-request@" + \
        D.encode() + b"\r\n" + hdr(to="meguro-request@" + D) + \
        nested(200, b"help\r\n")
    g["multipart-no-boundary"] = hdr(extra=b"Content-Type: multipart/mixed"
        b"\r\n") + b"\r\n--x\r\n\r\ntext\r\n--x--\r\n"
    g["multipart-empty-boundary"] = hdr(extra=b"Content-Type: multipart/"
        b"mixed; boundary=\"\"\r\n") + b"\r\n--\r\n\r\ntext\r\n----\r\n"
    g["multipart-long-boundary"] = hdr(extra=b"Content-Type: multipart/"
        b"mixed; boundary=\"" + b"B" * 5000 + b"\"\r\n") + b"\r\n--" + \
        b"B" * 5000 + b"\r\n\r\ntext\r\n--" + b"B" * 5000 + b"--\r\n"
    g["multipart-no-parts"] = hdr(extra=b"Content-Type: multipart/mixed; "
        b"boundary=x\r\n") + b"\r\npreamble only\r\n"
    g["multipart-many-parts"] = hdr(extra=b"Content-Type: multipart/mixed; "
        b"boundary=x\r\n") + b"\r\n" + b"".join(b"--x\r\nContent-Type: "
        b"text/plain\r\n\r\npart %d\r\n" % i for i in range(2000)) + \
        b"--x--\r\n"
    g["multipart-digest"] = hdr(extra=b"Content-Type: multipart/digest; "
        b"boundary=x\r\n") + b"\r\n--x\r\n\r\nFrom: inner@x\r\n\r\nbody\r\n"\
        b"--x--\r\n"
    g["rfc822-nested-50"] = hdr() + b"".join(b"Content-Type: message/"
        b"rfc822\r\n\r\nFrom: n%d@%s\r\nSubject: level %d\r\n" % (i,
        M.encode(), i) for i in range(50)) + b"\r\ninnermost\r\n"
    g["report-to-bounces"] = msg("meguro-bounces@" + D, frm="MAILER-DAEMON@"
        + M, extra=b"Content-Type: multipart/report; report-type=delivery-"
        b"status; boundary=r\r\n", body=b"--r\r\nContent-Type: message/"
        b"delivery-status\r\n\r\nFinal-Recipient: rfc822; \0\xff\r\nStatus: "
        b"9.9.9\r\nAction: exploded\r\n\r\n--r--\r\n")
    g["report-nested-bounces"] = b"X-Corpus-To: meguro-bounces@" + \
        D.encode() + b"\r\n" + hdr(to="meguro-bounces@" + D, extra=b"Content-"
        b"Type: multipart/report; boundary=b0\r\n") + b"\r\n--b0\r\n" + \
        nested(100) + b"\r\n--b0--\r\n"

    # -- broken base64
    bad64 = {
        "illegal-chars": "5LiW!!!55Sw$$6LC3",
        "truncated": "5LiW55Sw6LC",
        "no-padding": "5LiW55Sw6L",
        "only-padding": "====",
        "whitespace": "5 L i W\t55Sw\r\n 6LC3",
        "huge-line": "QUFB" * 50000,
        "eight-bit": "5LiW\xff\xfe55Sw",
        "empty": "",
    }
    for name, text in bad64.items():
        g["b64-body-" + name] = hdr(extra=b"Content-Type: text/plain; "
            b"charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n") + \
            b"\r\n" + text.encode("latin-1") + b"\r\n"
        g["b64-subject-" + name] = msg(subject=("=?UTF-8?B?%s?=" % text[:500]
            ).encode("latin-1"))
        g["b64-request-" + name] = msg("meguro-request@" + D,
            extra=b"Content-Type: text/plain; charset=utf-8\r\nContent-"
            b"Transfer-Encoding: base64\r\n", body=text.encode("latin-1")
            + b"\r\n")

    # -- broken quoted-printable
    badqp = {
        "bad-hex": "=ZZ=G1=1",
        "soft-break-end": "text=",
        "lone-equals": "=\r\n=\r\n=",
        "lowercase": "=e3=81=82",
        "long-soft": "a=\r\n" * 5000,
        "nul": "=00=00",
        "eight-bit": "\xe3\x81\x82=E3",
    }
    for name, text in badqp.items():
        g["qp-body-" + name] = hdr(extra=b"Content-Type: text/plain; "
            b"charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
            b"\r\n") + b"\r\n" + text.encode("latin-1") + b"\r\n"
        g["qp-subject-" + name] = msg(subject=("=?UTF-8?Q?%s?=" % text[:300]
            .replace("\r\n", "")).encode("latin-1"))
    g["cte-unknown"] = hdr(extra=b"Content-Transfer-Encoding: x-uuencode\r\n"
        ) + b"\r\nbegin 644 x\r\n#86)C\r\n`\r\nend\r\n"
    g["cte-twice"] = hdr(extra=b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n") + b"\r\n=41\r\n"

    # -- unknown and odd charsets
    charsets = ["x-unknown-foo", "utf-7", "iso-2022-kr", "ut]f-8",
        "\"\"", "utf-8//IGNORE", "A" * 1000, "iso-8859-99", "UTF-16",
        "UTF-32", "ucs-2", "cp50220", "ISO-2022-JP-2", "x-mac-japanese",
        "unicode-1-1-utf-7", "\"iso-2022-jp\"", "gb2312", "ks_c_5601-1987",
        "windows-31j", "", "utf-8'ja'"]
    for i, cs in enumerate(charsets):
        body = "本文です\r\n".encode("utf-8")
        g["charset-body-%02d" % i] = hdr(extra=("Content-Type: text/plain; "
            "charset=%s\r\n" % cs).encode()) + b"\r\n" + body
        g["charset-word-%02d" % i] = msg(subject=("=?%s?B?%s?=" % (cs[:200],
            b64("件名"))).encode())
    g["charset-request-utf16"] = msg("meguro-request@" + D,
        extra=b"Content-Type: text/plain; charset=utf-16\r\n",
        body="subscribe\r\n".encode("utf-16"))

    # -- encoded words inside addresses
    ew = "=?UTF-8?B?%s?=" % b64("山田 太郎")
    for i, frm in enumerate([
            "%s <a@%s>" % (ew, M),
            "\"%s\" <a@%s>" % (ew, M),
            "=?UTF-8?B?%s?=@%s" % (b64("a"), M),
            "%s@%s" % (ew, M),
            "a@=?UTF-8?B?%s?=" % b64(M),
            "<=?UTF-8?B?%s?=>" % b64("a@" + M),
            "=?ISO-2022-JP?B?%s?= <a@%s>" % (b64(b"\x1b$B;3ED\x1b(B"), M),
            "=?bogus?X?zz?= <a@%s>" % M,
            "%s <%s>" % (ew, ew),
            "=?UTF-8?Q?a=40b?= <a@%s>" % M,
            "(=?UTF-8?B?%s?=) a@%s" % (b64("comment"), M),
            "%s" % ("=?UTF-8?B?QUFB?=" * 500)]):
        g["encword-from-%02d" % i] = msg(frm=frm)
        g["encword-join-%02d" % i] = msg("meguro-join@" + D, frm=frm)
    g["encword-reply-to"] = msg(extra=("Reply-To: %s <r@%s>\r\n" % (ew, M)
        ).encode())
    g["encword-to"] = hdr(to="%s <meguro@%s>" % (ew, D)) + b"\r\nx\r\n"

    # -- From with several addresses
    for i, frm in enumerate([
            "a@%s, b@%s" % (M, M),
            "\"A, B\" <a@%s>, c@%s" % (M, M),
            "Group: a@%s, b@%s;" % (M, M),
            "Empty:;",
            "Empty:;, a@%s" % M,
            ", , a@%s" % M,
            ", ".join("u%d@%s" % (j, M) for j in range(1000)),
            "a@%s b@%s" % (M, M),
            "<a@%s> <b@%s>" % (M, M)]):
        g["multifrom-%02d" % i] = msg(frm=frm)
        g["multifrom-request-%02d" % i] = msg("meguro-request@" + D,
            frm=frm, body="subscribe\r\n")
    g["multifrom-two-fields"] = hdr() + b"From: b@" + M.encode() + \
        b"\r\n\r\nx\r\n"

    # -- line ends
    g["eol-lf-only"] = msg().replace(b"\r\n", b"\n")
    g["eol-mixed"] = b"From: a@" + M.encode() + b"\nTo: meguro@" + \
        D.encode() + b"\r\nSubject: mixed\n\r\nbody\r\nline\nend\r\n"
    g["eol-bare-cr"] = msg().replace(b"\r\n", b"\r")
    g["eol-crcrlf"] = msg().replace(b"\r\n", b"\r\r\n")
    g["eol-lfcr"] = msg().replace(b"\r\n", b"\n\r")
    g["eol-none-at-end"] = msg(body=b"no newline at the end")
    g["eol-fold-only-ws"] = hdr(extra=b"X-Folded:\r\n \r\n\t\r\n \r\n") + \
        b"\r\nx\r\n"
    g["eol-fold-first"] = b" continuation first\r\n" + msg()
    g["eol-header-no-colon"] = hdr(extra=b"no colon here\r\n") + b"\r\nx\r\n"
    g["eol-blank-first"] = b"\r\n" + msg()
    g["eol-headers-only"] = hdr()
    g["eol-request-lf"] = msg("meguro-request@" + D,
        body="subscribe\nhelp\r\nwho\rend\n").replace(b"\r\n", b"\n")
    g["eol-dots"] = msg(body=b".\r\n..\r\n.x\r\n. \r\n")

    # -- commands
    g["cmd-many-lines"] = msg("meguro-request@" + D,
        body="help\r\n" * 5000)
    g["cmd-huge-name"] = msg("meguro-request@" + D,
        body="subscribe " + "山" * 20000 + "\r\n")
    g["cmd-confirm-garbage"] = msg("meguro-request@" + D,
        body="confirm ../../etc/passwd\r\nconfirm " + "A" * 5000 + "\r\n")
    g["cmd-set-odd"] = msg("meguro-request@" + D,
        body="set\r\nset digest nomail\r\nset \0\r\n")
    g["cmd-subject-huge"] = msg("meguro-request@" + D,
        subject="subscribe " + "x" * 30000)
    g["confirm-bad-token"] = msg("meguro-confirm+AAAA@" + D)
    g["leave-nonmember"] = msg("meguro-leave@" + D)
    g["owner-8bit"] = msg("meguro-owner@" + D, subject=b"\xff\xfe")

    # -- loops, auto mail, odd fields
    g["loop-xloop"] = msg(extra=b"X-Loop: meguro@" + D.encode() + b"\r\n")
    g["loop-listid"] = msg(extra=b"List-Id: <meguro." + D.encode() +
        b">\r\n")
    g["auto-submitted-request"] = msg("meguro-request@" + D,
        extra=b"Auto-Submitted: auto-replied\r\n", body="subscribe\r\n")
    g["precedence-bulk-request"] = msg("meguro-request@" + D,
        extra=b"Precedence: bulk\r\n", body="subscribe\r\n")
    g["received-500"] = hdr(extra=b"".join(b"Received: from h%d by h%d; "
        b"Sat, 21 Nov 2026 10:00:00 +0900\r\n" % (i, i) for i in range(500))
        ) + b"\r\nx\r\n"
    g["message-id-huge"] = msg(extra=b"Message-ID: <" + b"m" * 100000 +
        b"@x>\r\n")
    g["date-garbage"] = msg(extra=b"Date: the day after tomorrow, maybe\r\n")
    g["content-type-garbage"] = hdr(extra=b"Content-Type: ;;;===\"\r\n") + \
        b"\r\nx\r\n"
    g["content-type-no-subtype"] = hdr(extra=b"Content-Type: text\r\n") + \
        b"\r\nx\r\n"
    g["content-type-params-1000"] = hdr(extra=b"Content-Type: text/plain" +
        b"".join(b"; p%d=v" % i for i in range(1000)) + b"\r\n") + \
        b"\r\nx\r\n"
    g["rfc2231-params"] = hdr(extra=b"Content-Type: text/plain; charset*="
        b"utf-8''%E3%81; name*0*=utf-8''%ZZ; name*1=x\r\n") + b"\r\nx\r\n"
    g["subject-many-words"] = msg(subject=" ".join(["=?UTF-8?B?%s?=" %
        b64("語")] * 3000))
    g["subject-split-char"] = msg(subject="=?UTF-8?B?%s?= =?UTF-8?B?%s?="
        % (b64(b"\xe5\xb1"), b64(b"\xb1")))
    g["subject-prefix-loop"] = msg("setagaya@" + D, frm="sewanin@" + M,
        subject="Re: [世田谷] " * 500 + "件名")
    g["post-members-list-stranger"] = msg("setagaya@" + D,
        frm="stranger@" + M, subject=b"\xff")
    g["post-announce"] = msg("tokyo@" + D, frm="x@" + M)
    return g


def big_messages():
    """The big ones, made at test time: {name: (rcpt or None, bytes)}."""
    out = {}
    out["big-header-line-1mb"] = hdr(extra=b"X-Long: " + b"h" * (1 << 20)
        + b"\r\n") + b"\r\nbody\r\n"
    out["big-subject-1mb"] = msg(subject="件" * 350000)
    out["big-10000-headers"] = hdr(extra=b"".join(b"X-Field-%05d: value "
        b"%d\r\n" % (i, i) for i in range(10000))) + b"\r\nbody\r\n"
    out["big-10000-headers-request"] = b"X-Corpus-To: meguro-request@" + \
        D.encode() + b"\r\n" + hdr(to="meguro-request@" + D,
        extra=b"".join(b"Comments: %d\r\n" % i for i in range(10000))) + \
        b"\r\nhelp\r\n"
    # libetpan's time grows with the square of the depth: 20,000 levels
    # would hold the processor for minutes; message.c refuses them.
    out["big-nested-20000"] = hdr() + nested(20000)
    att = base64.encodebytes(os.urandom(3 * 1024 * 1024) * 12).replace(
        b"\n", b"\r\n")
    out["big-attachment-50mb"] = hdr(extra=b"Content-Type: multipart/mixed; "
        b"boundary=att\r\n") + b"\r\n--att\r\nContent-Type: text/plain; "\
        b"charset=utf-8\r\n\r\nsee attached\r\n--att\r\nContent-Type: "\
        b"application/octet-stream; name=big.bin\r\nContent-Transfer-"\
        b"Encoding: base64\r\n\r\n" + att + b"--att--\r\n"
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, data in sorted(generated().items()):
        with open(os.path.join(out, "gen-%s.eml" % name), "wb") as f:
            f.write(data)
    print(len(generated()), "messages written to", out)


if __name__ == "__main__":
    main()
