#!/bin/bash
# R7 through a real, private Postfix: after `chanrac optout add`, an advertising
# message to the opted-out recipient and another one is accepted (250), the milter
# removes the opted-out recipient (smfi_delrcpt) and Postfix delivers the message
# to the other recipient only; the same message to the opted-out recipient alone
# gets 550 5.7.1 with the R7 reason.  Real Redis, smtp-sink as the next hop.
. "$(dirname "$0")/../lib.sh"

need_bin chanrac-milter chanrac
need_cmd postfix swaks smtp-sink
need_root "a private Postfix instance"
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }

MPORT=$(free_port)
# no DNS server answers: SPF and DNSBLs give nothing, fail_mode accept
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = test
[engine]
dns_servers = 127.0.0.1:9
deadline = 500ms
authserv_id = mx.chanrac.test
[optout]
grace = 0s
$(conf_milter "$MPORT")
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
start_milter_postfix "$T/chanrac.conf" || { not_ok "chanrac-milter, smtp-sink and a private Postfix start"; finish; }
ok "redis, chanrac-milter, smtp-sink and a private Postfix running"

expect_rc "chanrac optout add" 0 cr optout add an@example.vn --advertiser shop.example.vn --channel email

BODY='Chương trình khuyến mãi mùa thu: mọi máy tính xách tay giảm giá tới 30%,
miễn phí vận chuyển toàn quốc, trả góp 0% lãi suất. Xem tại https://shop.example.vn/km

Công ty TNHH Điện máy Xanh, 12 Lê Lợi, Quận 1, TP. Hồ Chí Minh
Điện thoại 028 3822 1234, email cskh@shop.example.vn

Để từ chối nhận quảng cáo: https://shop.example.vn/huy, huy@shop.example.vn, 028 3822 9999.'
sw() {
	swaks --server "127.0.0.1:$PF_PORT" --from news@shop.example.vn --timeout 30 \
		--header "Subject: [QC] Khuyen mai $1" --header "Content-Type: text/plain; charset=utf-8" \
		--body "$BODY" "${@:2}" 2>&1
}

# --- two recipients: the opted-out one is removed, the other gets it -------------------
sw two --to an@example.vn,binh@example.vn >"$T/swaks-two.out"
check "accepted for the message (250 queued)" grep -q "<-  250 2.0.0 Ok: queued as" "$T/swaks-two.out"
qid=$(sed -n 's/.*Ok: queued as \([0-9A-F]*\).*/\1/p' "$T/swaks-two.out" | tail -n 1)
if wait_for 20 grep -q "$qid: to=<binh@example.vn>.*status=sent" "$PF/maillog"; then
	ok "Postfix delivers $qid to the other recipient"
else
	not_ok "Postfix delivers ${qid:-?} to the other recipient"; tail -n 8 "$PF/maillog" | sed 's/^/#   /'
fi
check "Postfix delivers nothing to the opted-out recipient" sh -c "! grep -q '$qid: to=<an@example.vn>' '$PF/maillog'"
f=$(grep -la "Subject: \[QC\] Khuyen mai two" "$SINK_DIR"/* 2>/dev/null | head -n 1)
check "the next hop got the message" test -n "$f"
check "...for binh@example.vn" grep -qa "binh@example.vn" "${f:-/dev/null}"
check "...and not for an@example.vn (envelope)" sh -c "! grep -qa 'X-Rcpt-Args: <an@example.vn>' '${f:-/dev/null}'"
check "the milter logs the removal with the queue id" grep -q "$qid: rcpt=<an@example.vn> removed: R7" "$T/milter.log"
check "the report names R7 for an@example.vn" grep -qa "R7=10 (an@example.vn opted out of" "${f:-/dev/null}"

# --- the opted-out recipient alone: 550 --------------------------------------------------
sw one --to an@example.vn >"$T/swaks-one.out"
check "alone, the opted-out recipient gets 550 5.7.1 with the R7 reason" \
	grep -q "<\*\* 550 5.7.1 Rejected as spam: R7 an@example.vn opted out of advertising from example.vn" "$T/swaks-one.out"
check "Postfix logs the milter reject" wait_for 10 grep -q "milter-reject: END-OF-MESSAGE .*5.7.1 Rejected as spam: R7" "$PF/maillog"

# --- another advertiser still reaches the recipient -------------------------------------
swaks --server "127.0.0.1:$PF_PORT" --from news@other-shop.vn --to an@example.vn --timeout 30 \
	--header "Subject: [QC] Uu dai" --body "$BODY" >"$T/swaks-other.out" 2>&1
check "another advertiser's mail is accepted" grep -q "<-  250 2.0.0 Ok: queued as" "$T/swaks-other.out"
q2=$(sed -n 's/.*Ok: queued as \([0-9A-F]*\).*/\1/p' "$T/swaks-other.out" | tail -n 1)
check "...and delivered" wait_for 20 grep -q "$q2: to=<an@example.vn>.*status=sent" "$PF/maillog"

stop_postfix && ok "private Postfix stopped" || not_ok "private Postfix stopped"
finish
