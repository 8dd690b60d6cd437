#!/usr/bin/env python3
"""Writes the advertising corpus: NAME.eml and NAME.rules (the advertising rules the
message must trigger, one per line; empty = none), and NAME.dkim for signed mail
(the dkim= results Authentication-Results must show, in order).

The files are committed; tests/integration/advert_corpus.sh checks them.  Rerun
this only to change the corpus:

    DKIMSIGN=build-h1/tests/tools/dkimsign python3 tests/corpus/advert/gen.py

Signed messages use keys/test.key (a throw-away test key); the integration test
serves keys/test.pub.b64 from tests/tools/fakedns as sel._domainkey.shop-abc.vn and
news._domainkey.greentravel.vn.  iconv makes the windows-1258 and VISCII parts.
"""
import base64
import os
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DKIMSIGN = os.environ.get("DKIMSIGN", "build/tests/tools/dkimsign")
KEY = os.path.join(HERE, "keys", "test.key")


def b_word(text, charset="UTF-8"):
    raw = text.encode("utf-8") if charset == "UTF-8" else iconv(text, charset)
    return "=?%s?B?%s?=" % (charset, base64.b64encode(raw).decode())


def q_word(text, charset="UTF-8"):
    raw = text.encode("utf-8") if charset == "UTF-8" else iconv(text, charset)
    out = []
    for b in raw:
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?%s?Q?%s?=" % (charset, "".join(out))


def iconv(text, charset):
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", charset], input=text.encode(),
                          capture_output=True, check=True).stdout


# ---- building blocks -------------------------------------------------------------

VI_BODY = """Kính gửi Quý khách,

Nhân dịp cuối năm, Shop ABC khuyến mãi lớn: giảm giá 50% cho toàn bộ áo khoác,
giá chỉ từ 199.000đ. Miễn phí vận chuyển cho đơn hàng từ 500.000đ.
Mua ngay tại https://shop-abc.vn/khuyen-mai
"""

VI_BLOCK = """Công ty TNHH Thời trang ABC
Địa chỉ: 12 Nguyễn Trãi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh
Điện thoại: 028 3822 1234
Email: lienhe@shop-abc.vn
Website: https://shop-abc.vn
"""

VI_OPTOUT = """Quý khách có quyền từ chối nhận toàn bộ thư quảng cáo của Shop ABC qua:
- Trang web: https://shop-abc.vn/huy-dang-ky
- Email: huydangky@shop-abc.vn
- Điện thoại: 1800 1234
"""

EN_BODY = """Dear traveller,

Our winter deals are here: save up to 40% on Da Nang and Hoi An tours, from only
$199 per person. Special offer ends on 31 December.
Book now at https://greentravel.vn/winter
"""

EN_BLOCK = """Advertiser: Green Travel Co., Ltd.
Address: 45 Le Loi Street, Ben Nghe Ward, District 1, Ho Chi Minh City, Vietnam
Phone: +84 28 3822 5678
Email: contact@greentravel.vn
"""

EN_OPTOUT = """You have the right to refuse all advertising from Green Travel:
- Web: https://greentravel.vn/unsubscribe
- Email: unsubscribe@greentravel.vn
- Phone: +84 28 3822 5679
"""

VI_FROM = "Shop ABC <news@shop-abc.vn>"
EN_FROM = "Green Travel <news@greentravel.vn>"
VI_LU = "<https://shop-abc.vn/unsub?u=8f2a>, <mailto:unsub@shop-abc.vn?subject=unsubscribe>"
EN_LU = "<mailto:unsubscribe@greentravel.vn>, <https://greentravel.vn/u/71c3>"
ONECLICK = "List-Unsubscribe=One-Click"

written = []


def message(name, subject, body, rules, frm=VI_FROM, lu=VI_LU, extra=(), ctype=None,
            charset="utf-8", cte="8bit", sign=None, dkim=None, raw_body=None):
    hdr = [("From", frm), ("To", "khach.hang@example.vn"), ("Subject", subject),
           ("Date", "Tue, 02 Dec 2025 09:00:00 +0700"),
           ("Message-ID", "<%s@corpus.test>" % name), ("MIME-Version", "1.0")]
    if lu is not None:
        hdr.append(("List-Unsubscribe", lu))
    hdr.extend(extra)
    hdr.append(("Content-Type", ctype or "text/plain; charset=%s" % charset))
    hdr.append(("Content-Transfer-Encoding", cte))
    head = "".join("%s: %s\n" % h for h in hdr)
    data = head.encode() + b"\n" + (raw_body if raw_body is not None else body.encode())
    if sign is not None:
        selector, domain, headers = sign[:3]
        env = dict(os.environ, DKIMSIGN_CANON=sign[3] if len(sign) > 3 else "relaxed")
        args = [DKIMSIGN, KEY, selector, domain] + ([headers] if headers else [])
        data = subprocess.run(args, input=data, capture_output=True, check=True,
                              env=env).stdout
    with open(os.path.join(HERE, name + ".eml"), "wb") as f:
        f.write(data)
    with open(os.path.join(HERE, name + ".rules"), "w") as f:
        f.write("".join(r + "\n" for r in rules))
    if dkim is not None:
        with open(os.path.join(HERE, name + ".dkim"), "w") as f:
            f.write("".join(r + "\n" for r in dkim))
    written.append(name)


def vi(body=VI_BODY, block=VI_BLOCK, optout=VI_OPTOUT):
    return body + "\n" + block + "\n" + optout


def en(body=EN_BODY, block=EN_BLOCK, optout=EN_OPTOUT):
    return body + "\n" + block + "\n" + optout


def html(text_blocks):
    return "<html><head><title>x</title><style>p{color:red}</style></head><body>\n" + \
        "\n".join(text_blocks) + "\n</body></html>\n"


# ---- compliant advertising -------------------------------------------------------

message("vi-compliant-b", b_word("[QC] Khuyến mãi cuối năm của Shop ABC"), vi(), ["ADV_LABEL"])
message("vi-compliant-q", q_word("[QC] Giảm giá áo khoác"), vi(), ["ADV_LABEL"])
message("vi-compliant-ad", b_word("[AD] Ưu đãi tháng 12"), vi(), ["ADV_LABEL"])
message("en-compliant", "[AD] Winter deals from Green Travel", en(), ["ADV_LABEL"],
        frm=EN_FROM, lu=EN_LU)
message("en-compliant-qc", "[QC] Winter deals to Da Nang", en(), ["ADV_LABEL"], frm=EN_FROM,
        lu=EN_LU)
message("vi-compliant-raw-utf8", "[QC] Khuyến mãi lớn", vi(), ["ADV_LABEL"])
message("vi-compliant-cp1258", b_word("[QC] Khuyến mãi lớn", "windows-1258"), vi(),
        ["ADV_LABEL"], charset="windows-1258", cte="8bit",
        raw_body=iconv(vi(), "WINDOWS-1258"))
message("vi-compliant-cp1258-q", q_word("[QC] Ưu đãi đặc biệt", "windows-1258"), vi(),
        ["ADV_LABEL"])
message("vi-compliant-viscii", b_word("[QC] Giảm giá mùa đông", "VISCII"), vi(), ["ADV_LABEL"],
        charset="viscii", raw_body=iconv(vi(), "VISCII"))
message("vi-compliant-tcvn", b_word("[QC] Khuyến mãi lớn", "TCVN5712-1"), vi(), ["ADV_LABEL"],
        charset="tcvn5712-1", raw_body=iconv(vi(), "TCVN5712-1"))
message("vi-compliant-viscii-q", q_word("[QC] Ưu đãi", "VISCII"), vi(), ["ADV_LABEL"])
message("label-lower-cp1258-q", q_word("[qc] Ưu đãi đặc biệt", "windows-1258"), vi(),
        ["ADV_LABEL", "R1a"])
message("vi-compliant-nfd", b_word(unicodedata.normalize("NFD", "[QC] Khuyến mãi lớn")),
        unicodedata.normalize("NFD", vi()), ["ADV_LABEL"])
message("vi-compliant-nfd-raw", unicodedata.normalize("NFD", "[QC] Ưu đãi"),
        unicodedata.normalize("NFD", vi()), ["ADV_LABEL"])
message("vi-compliant-base64-body", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL"],
        cte="base64", raw_body=base64.encodebytes(vi().encode()))

VI_HTML = html([
    "<p>Kính gửi Quý khách,</p>",
    "<p>Shop ABC <b>khuyến mãi</b> lớn: giảm giá 50% cho toàn bộ áo khoác, giá chỉ từ "
    "199.000&#273;. <a href=\"https://shop-abc.vn/khuyen-mai?utm_source=email\">Mua ngay</a></p>",
    "<p>C&ocirc;ng ty TNHH Thời trang ABC<br>Địa chỉ: 12 Nguyễn Trãi, Phường Bến Thành, Quận 1, "
    "TP. Hồ Chí Minh<br>Điện thoại: 028 3822 1234<br>Email: lienhe@shop-abc.vn</p>",
    "<p>Quý khách có quyền từ chối nhận toàn bộ thư quảng cáo của Shop ABC: "
    "<a href=\"https://shop-abc.vn/huy-dang-ky?u=8f2a\">bấm vào đây</a>, "
    "<a href=\"mailto:huydangky@shop-abc.vn\">gửi email cho chúng tôi</a> "
    "hoặc gọi 1800 1234.</p>",
])
message("vi-html-only", b_word("[QC] Khuyến mãi áo khoác"), VI_HTML, ["ADV_LABEL"],
        ctype="text/html; charset=utf-8")

EN_HTML = html([
    "<div>Dear traveller,</div>",
    "<div>Save up to 40% on <i>Da Nang</i> tours, from only $199. "
    "<a href=\"https://click.greentravel.vn/c/1\">Book now</a></div>",
    "<table><tr><td>Advertiser: Green Travel Co., Ltd.</td></tr>"
    "<tr><td>Address: 45 Le Loi Street, District 1, Ho Chi Minh City</td></tr>"
    "<tr><td>Phone: +84 28 3822 5678</td></tr><tr><td>Email: contact@greentravel.vn</td></tr></table>",
    "<div>You have the right to refuse all our advertising: "
    "<a href=\"https://greentravel.vn/unsubscribe?u=1\">click here</a>, "
    "<a href=\"mailto:unsubscribe@greentravel.vn\">send us an email</a> "
    "or call +84 28 3822 5679.</div>",
])
message("en-html-only", "[AD] Winter deals", EN_HTML, ["ADV_LABEL"], frm=EN_FROM, lu=EN_LU,
        ctype="text/html; charset=utf-8")

ALT = ("--b1\nContent-Type: text/plain; charset=utf-8\n\n" + vi() +
       "\n--b1\nContent-Type: text/html; charset=utf-8\n\n" + VI_HTML + "\n--b1--\n")
message("vi-multipart-alternative", b_word("[QC] Khuyến mãi"), ALT, ["ADV_LABEL"],
        ctype="multipart/alternative; boundary=\"b1\"")

message("vi-en-bilingual", b_word("[QC] Khuyến mãi / Winter sale"),
        vi(optout=VI_OPTOUT + "You have the right to refuse all advertising from Shop ABC: "
           "unsubscribe through the same web page, email address or phone number.\n"),
        ["ADV_LABEL"])

# ---- List-Unsubscribe, one-click and DKIM -----------------------------------------

message("vi-oneclick-dkim", b_word("[QC] Khuyến mãi cuối năm"), vi(), ["ADV_LABEL"],
        extra=[("List-Unsubscribe-Post", ONECLICK)], sign=("sel", "shop-abc.vn", None),
        dkim=["pass"])
message("en-oneclick-dkim", "[AD] Winter deals", en(), ["ADV_LABEL"], frm=EN_FROM, lu=EN_LU,
        extra=[("List-Unsubscribe-Post", ONECLICK)], sign=("news", "greentravel.vn", None),
        dkim=["pass"])
# c=simple/simple (opendkim's default) over folded Subject and List-Unsubscribe:
# the verifier must see the fields as folded, not unfolded
message("vi-oneclick-dkim-simple-folded",
        b_word("[QC] Khuyến mãi cuối năm") + "\n\t" + b_word("giảm giá 50% áo khoác"), vi(),
        ["ADV_LABEL"],
        lu="<https://shop-abc.vn/unsub?id=9f3a>,\n <mailto:unsub@shop-abc.vn?subject=unsub>",
        extra=[("List-Unsubscribe-Post", ONECLICK)], sign=("sel", "shop-abc.vn", None, "simple"),
        dkim=["pass"])
message("vi-dkim-no-oneclick", b_word("[QC] Ưu đãi"), vi(), ["ADV_LABEL"],
        sign=("sel", "shop-abc.vn", None), dkim=["pass"])
message("vi-oneclick-not-covered", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        extra=[("List-Unsubscribe-Post", ONECLICK)],
        sign=("sel", "shop-abc.vn", "From,To,Subject,Date,Message-ID,List-Unsubscribe"),
        dkim=["pass"])
message("en-oneclick-post-not-covered", "[AD] Winter deals", en(), ["ADV_LABEL", "R4h"],
        frm=EN_FROM, lu=EN_LU, extra=[("List-Unsubscribe-Post", ONECLICK)],
        sign=("news", "greentravel.vn", "From,To,Subject,Date,List-Unsubscribe-Post"),
        dkim=["pass"])
message("vi-oneclick-no-dkim", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        extra=[("List-Unsubscribe-Post", ONECLICK)])
message("vi-oneclick-unknown-key", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        extra=[("List-Unsubscribe-Post", ONECLICK)], sign=("nokey", "shop-abc.vn", None),
        dkim=["permerror"])
message("vi-lu-missing", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"], lu=None)
message("vi-lu-malformed", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        lu="https://shop-abc.vn/unsub")
message("vi-lu-http-only", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        lu="<http://shop-abc.vn/unsub>")
message("vi-lu-bad-mailto", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        lu="<mailto:unsubscribe>")
message("en-oneclick-wrong-value", "[AD] Winter deals", en(), ["ADV_LABEL", "R4h"],
        frm=EN_FROM, lu=EN_LU, extra=[("List-Unsubscribe-Post", "List-Unsubscribe=Yes")],
        sign=("news", "greentravel.vn", None), dkim=["pass"])
message("en-oneclick-mailto-only", "[AD] Winter deals", en(), ["ADV_LABEL", "R4h"],
        frm=EN_FROM, lu="<mailto:unsubscribe@greentravel.vn>",
        extra=[("List-Unsubscribe-Post", ONECLICK)], sign=("news", "greentravel.vn", None),
        dkim=["pass"])

# a signature broken after signing: the body changed
signed = None
message("vi-oneclick-dkim-broken", b_word("[QC] Khuyến mãi"), vi(), ["ADV_LABEL", "R4h"],
        extra=[("List-Unsubscribe-Post", ONECLICK)], sign=("sel", "shop-abc.vn", None),
        dkim=["fail"])
p = os.path.join(HERE, "vi-oneclick-dkim-broken.eml")
with open(p, "rb") as f:
    data = f.read()
with open(p, "wb") as f:
    f.write(data.replace("giảm giá 50%".encode(), "giảm giá 70%".encode()))

# ---- tolerated labels (R1a) ------------------------------------------------------

for name, label in [("lower", "[qc]"), ("mixed", "[Qc]"), ("adv", "[ADV]"), ("paren", "(QC)"),
                    ("brace", "{QC}"), ("angle", "<QC>"), ("fullwidth-brackets", "［QC］"),
                    ("lenticular", "【QC】"), ("inner-spaces", "[ QC ]"),
                    ("management-code", "[QC-0123456]"), ("fullwidth-letters", "［ＱＣ］"),
                    ("adv-lower-paren", "(adv)")]:
    message("label-" + name, b_word(label + " Khuyến mãi cuối năm"), vi(),
            ["ADV_LABEL", "R1a"])
message("en-label-adv-q", q_word("[ADV] Winter deals"), en(), ["ADV_LABEL", "R1a"],
        frm=EN_FROM, lu=EN_LU)

# ---- labels not first (R1b) ------------------------------------------------------

message("label-after-text", b_word("Khuyến mãi cuối năm [QC]"), vi(), ["ADV_LABEL", "R1b"])
message("label-after-re", b_word("Re: [QC] Khuyến mãi cuối năm"), vi(), ["ADV_LABEL", "R1b"])
message("label-after-fwd", "Fwd: [AD] Winter deals", en(), ["ADV_LABEL", "R1b"], frm=EN_FROM,
        lu=EN_LU)
message("label-after-tl-tolerated", b_word("TL: (qc) Khuyến mãi"), vi(), ["ADV_LABEL", "R1b"])
message("label-lenticular-after-text", b_word("Giảm giá 50% 【QC】"), vi(),
        ["ADV_LABEL", "R1b"])
message("label-reply-genuine", b_word("Re: [QC] Khuyến mãi cuối năm"), vi(), ["ADV_LABEL"],
        extra=[("In-Reply-To", "<abc@shop-abc.vn>")])

# ---- unlabelled advertising (ADV_NO_LABEL) ---------------------------------------

message("vi-unlabelled-bulk", b_word("Khuyến mãi cuối năm của Shop ABC"), vi(),
        ["ADV_NO_LABEL"], extra=[("Precedence", "bulk"), ("Feedback-ID", "c1:shopabc:esp")])
message("en-unlabelled-esp", "Winter deals: save up to 40%",
        EN_BODY + "\nTrack your booking: https://click.greentravel.vn/t/9?utm_source=email\n"
        "\nUnsubscribe: https://greentravel.vn/unsubscribe\n",
        ["ADV_NO_LABEL", "R3", "R4"], frm=EN_FROM, lu=EN_LU,
        extra=[("X-Mailer", "Mailchimp Mailer"), ("Feedback-ID", "42:green:mc")])
message("vi-unlabelled-direct", b_word("Giảm giá sốc hôm nay"),
        "Khuyến mãi lớn! Giảm giá 70%, giá chỉ 99.000đ, mua ngay kẻo lỡ.\n"
        "Hotline: 0912 345 678\n", ["ADV_NO_LABEL", "R3", "R4", "R4h"], lu=None)

# ---- advertiser block (R3) -----------------------------------------------------

message("vi-block-no-phone", b_word("[QC] Khuyến mãi"),
        vi(block=VI_BLOCK.replace("Điện thoại: 028 3822 1234\n", "")), ["ADV_LABEL", "R3"])
message("vi-block-no-address", b_word("[QC] Khuyến mãi"),
        vi(block=VI_BLOCK.replace(
            "Địa chỉ: 12 Nguyễn Trãi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh\n", "")),
        ["ADV_LABEL", "R3"])
message("vi-block-no-name", b_word("[QC] Khuyến mãi"),
        vi(block=VI_BLOCK.replace("Công ty TNHH Thời trang ABC\n", "")), ["ADV_LABEL", "R3"])
message("en-block-no-email", "[AD] Winter deals",
        en(block=EN_BLOCK.replace("Email: contact@greentravel.vn\n", "")), ["ADV_LABEL", "R3"],
        frm=EN_FROM, lu=EN_LU)
message("vi-block-at-top", b_word("[QC] Khuyến mãi"),
        VI_BLOCK + "\n" + VI_BODY + "\nChúc Quý khách mùa mua sắm vui vẻ.\n"
        "Cảm ơn Quý khách đã tin dùng sản phẩm.\nHẹn gặp lại tại cửa hàng.\n"
        "Chương trình có hiệu lực đến hết 31/12.\nSố lượng có hạn.\n"
        "Áp dụng cho mọi kích cỡ.\nKhông áp dụng cùng mã khác.\nĐổi trả trong 7 ngày.\n"
        "Thanh toán khi nhận hàng.\nGiao hàng toàn quốc.\nChi tiết xem trên website.\n\n"
        + VI_OPTOUT, ["ADV_LABEL", "R3"])
message("vi-block-missing", b_word("[QC] Khuyến mãi"), VI_BODY + "\n" + VI_OPTOUT,
        ["ADV_LABEL", "R3"])

# ---- opt-out section (R4) ------------------------------------------------------

message("vi-optout-no-phone", b_word("[QC] Khuyến mãi"),
        vi(optout=VI_OPTOUT.replace("- Điện thoại: 1800 1234\n", "")), ["ADV_LABEL", "R4"])
message("vi-optout-no-web", b_word("[QC] Khuyến mãi"),
        vi(optout=VI_OPTOUT.replace("- Trang web: https://shop-abc.vn/huy-dang-ky\n", "")),
        ["ADV_LABEL", "R4"])
message("en-optout-no-email", "[AD] Winter deals",
        en(optout=EN_OPTOUT.replace("- Email: unsubscribe@greentravel.vn\n", "")),
        ["ADV_LABEL", "R4"], frm=EN_FROM, lu=EN_LU)
message("vi-optout-no-statement", b_word("[QC] Khuyến mãi"),
        vi(optout="Để hủy đăng ký: https://shop-abc.vn/huy-dang-ky, email huydangky@shop-abc.vn,"
           " điện thoại 1800 1234.\n"), ["ADV_LABEL", "R4"])
message("vi-optout-missing", b_word("[QC] Khuyến mãi"), VI_BODY + "\n" + VI_BLOCK,
        ["ADV_LABEL", "R4"])
message("vi-optout-not-at-end", b_word("[QC] Khuyến mãi"),
        vi() + "\n" + "\n".join("Sản phẩm %d: áo khoác mẫu %d" % (i, i) for i in range(1, 16))
        + "\n", ["ADV_LABEL", "R4"])
message("en-optout-only-earlier", "[AD] Winter deals",
        "You have the right to refuse all advertising: https://greentravel.vn/unsubscribe,"
        " unsubscribe@greentravel.vn, +84 28 3822 5679\n\n" + EN_BODY + "\n" +
        "\n".join("Tour %d: Hoi An day %d" % (i, i) for i in range(1, 26)) + "\n\n" + EN_BLOCK,
        ["ADV_LABEL", "R4"], frm=EN_FROM, lu=EN_LU)
message("en-html-no-optout", "[AD] Winter deals", html(EN_HTML.split("\n")[1:-3] + ["</table>"]),
        ["ADV_LABEL", "R4"], frm=EN_FROM, lu=EN_LU, ctype="text/html; charset=utf-8")
message("vi-nothing-compliant", b_word("Khuyến mãi [QC]"),
        "Giảm giá 50%, giá chỉ 199.000đ. Mua ngay!\n", ["ADV_LABEL", "R1b", "R3", "R4", "R4h"],
        lu=None)

# ---- chain letters and personal mail: no advertising rule --------------------------

message("vi-chain-letter", b_word("Fwd: Hãy chuyển tiếp thư này"),
        "Thư này đã đi vòng quanh thế giới 9 lần. Hãy chuyển tiếp cho 10 người bạn trong\n"
        "vòng 24 giờ, bạn sẽ gặp may mắn. Ông Tư ở Cần Thơ đã không gửi và mất việc.\n"
        "Đừng phá vỡ chuỗi thư!\n", [], frm="Bạn cũ <ban.cu@example.vn>", lu=None)
message("en-chain-letter", "FW: Send this to 10 friends",
        "This letter has been around the world nine times. Forward it to ten friends\n"
        "within 24 hours and good luck will come to you. Do not break the chain!\n", [],
        frm="Old Friend <friend@example.org>", lu=None)
message("vi-personal", b_word("Họp nhóm chiều nay"),
        "Chào anh,\n\nChiều nay 15h nhóm họp ở phòng 302 nhé. Anh mang theo báo cáo quý.\n\n"
        "Thân,\nLan\n", [], frm="Lan <lan@example.vn>", lu=None)
message("en-personal", "Lunch tomorrow?",
        "Hi Minh,\n\nAre you free for lunch tomorrow at noon? The new pho place on Hai Ba\n"
        "Trung street is good.\n\nCheers,\nTom\n", [], frm="Tom <tom@example.org>", lu=None)
message("vi-personal-price", b_word("Mua giúp em cái áo"),
        "Anh ơi, anh mua giúp em cái áo khoác giá 450.000đ ở cửa hàng gần nhà nhé.\n"
        "Số điện thoại của chị bán hàng: 0912 345 678.\n", [], frm="Em <em@example.vn>", lu=None)
message("vi-personal-reply-to-ad", b_word("Re: [QC] Khuyến mãi cuối năm"),
        "Cảm ơn, tôi không quan tâm.\n\n> Shop ABC trân trọng giới thiệu...\n", [],
        frm="Khách <khach.hang@example.vn>", lu=None,
        extra=[("In-Reply-To", "<vi-compliant-b@corpus.test>"),
               ("References", "<vi-compliant-b@corpus.test>")])
message("vi-personal-ad-in-parens", b_word("Kế hoạch chuyển đổi (AD) tuần sau"),
        "Anh Hùng,\n\nTuần sau mình chuyển các máy chủ sang domain controller mới.\n"
        "Nhờ anh kiểm tra lại danh sách tài khoản.\n", [], frm="IT <it@example.vn>", lu=None)
message("en-mailing-list", "[dev-list] Re: build failure on arm64",
        "Hi all,\n\nThe arm64 build fails since yesterday's merge; the linker cannot find\n"
        "libfoo. Could someone with access to the builder have a look?\n\nThanks,\nAn\n\n"
        "_______________________________________________\n"
        "dev-list mailing list\nTo unsubscribe: https://lists.example.org/dev-list\n", [],
        frm="An <an@example.org>", lu="<https://lists.example.org/dev-list>, "
        "<mailto:dev-list-request@lists.example.org?subject=unsubscribe>",
        extra=[("List-Id", "<dev-list.lists.example.org>"), ("Precedence", "list"),
               ("In-Reply-To", "<x@example.org>")])
message("vi-personal-signed", b_word("Tài liệu họp"),
        "Chào chị,\n\nEm gửi chị tài liệu cho buổi họp sáng mai.\n\nEm Hoa\n", [],
        frm="Hoa <hoa@shop-abc.vn>", lu=None, sign=("sel", "shop-abc.vn", None), dkim=["pass"])

print("%d messages" % len(written), file=sys.stderr)
