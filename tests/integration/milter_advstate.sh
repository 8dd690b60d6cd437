#!/bin/bash
# The Redis-backed rules through chanrac-milter (driven by miltertest) with a real
# redis-server: R5 (the 4th advertising message in 24 h from one advertiser to
# one recipient), R7 (after `chanrac optout add`, advertising to that recipient is
# rejected for that recipient only: smfi_delrcpt, the other recipient keeps it;
# alone it gets 550), R5 not counting what was rejected or removed, spam templates (`chanrac template add` matches a reworded
# copy), the outbound watch (a submission user over the hourly limit is held and
# `chanrac outbound release` lets the next message go), Redis down (rules skipped,
# verdict degraded, no reject), and the CLI's bad-input handling (exit 2, nothing
# changed) and store-unavailable exit 3; R5's legacy same-content limit in a
# second chanrac-milter (same_content_max = 1); R8 (a second opt-out confirmation
# from one submission user to one recipient).
. "$(dirname "$0")/../lib.sh"

LUA=$ROOT/tests/integration/milter
FAKEDNS=$ROOT/$BUILD/tests/tools/fakedns
for b in "$BIN/chanrac-milter" "$BIN/chanrac" "$FAKEDNS"; do
	[ -x "$b" ] || { not_ok "$b is built (make BUILD=$BUILD all $BUILD/tests/tools/fakedns)"; finish; }
done
command -v miltertest >/dev/null || { not_ok "miltertest is installed"; finish; }
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }
ok "redis on 127.0.0.1:$REDIS_PORT"
rc() { redis-cli -p "$REDIS_PORT" "$@"; }

# SPF of the sender domains answered at once (no records: spf=none)
mkfifo "$T/fakedns.in"
exec 7<>"$T/fakedns.in"
"$FAKEDNS" 'sender.test TXT rr sender.test. 60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"' \
	<"$T/fakedns.in" >"$T/fakedns.out" 2>"$T/fakedns.err" &
PIDS+=("$!")
wait_for 5 test -s "$T/fakedns.out" || { not_ok "fakedns starts"; finish; }
FAKE_PORT=$(head -n 1 "$T/fakedns.out")

MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
level = info
[cli]
source = test
[engine]
dns_servers = 127.0.0.1:$FAKE_PORT
deadline = 2s
authserv_id = mx.chanrac.test
tag_score = 5
quarantine_score = 0
reject_score = 12
[optout]
grace = 0s
[outbound]
user_messages_per_hour = 2
hold_score = 0
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
stats = no
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
start_milter "$T/chanrac.conf" || { not_ok "chanrac-milter starts"; finish; }
MPID=$MILTER_PID
ok "chanrac-milter listens on 127.0.0.1:$MPORT"

# send QID FROM RCPTS SUBJECT BODYFILE [AUTH [REPLY]]: one message; the milter's answer
# goes to $T/QID.out ("# reply: accept", "# rcptdel: x", "# report: ...")
send() {
	miltertest -s "$LUA/advmsg.lua" -D "SOCK=inet:$MPORT@127.0.0.1" -D "DIR=$LUA" \
		-D "QID=$1" -D "FROM=$2" -D "RCPTS=$3" -D "SUBJECT=$4" -D "BODYFILE=$5" \
		-D "AUTH=${6:-}" -D "REPLY=${7:-}" >"$T/$1.out" 2>&1 ||
		{ echo "# miltertest $1 failed:"; sed 's/^/#   /' "$T/$1.out" | tail -n 5; }
}
field() { sed -n "s/^# $2: //p" "$T/$1.out"; }

cat >"$T/ad.txt" <<'EOF2'
Kính gửi Quý khách Nguyễn Văn An,

Chương trình khuyến mãi mùa thu của Cửa hàng Điện máy Xanh đã bắt đầu: mọi máy tính
xách tay và điện thoại đều giảm giá tới 30%, miễn phí vận chuyển toàn quốc và trả góp
0% lãi suất trong 12 tháng. Xem chi tiết tại https://shop.example.vn/khuyen-mai?uid=88421
trước Chủ nhật này, số lượng có hạn.

Công ty TNHH Điện máy Xanh, 12 Lê Lợi, Quận 1, TP. Hồ Chí Minh
Điện thoại: 028 3822 1234 - Email: cskh@shop.example.vn

Bạn có quyền từ chối nhận tất cả quảng cáo của chúng tôi: hủy đăng ký tại
https://shop.example.vn/huy-dang-ky, gửi email tới huy@shop.example.vn hoặc gọi
028 3822 9999.
EOF2

# ---- R5: the 4th advertising message in 24 h from one advertiser to one recipient
for i in 1 2 3 4; do
	send "FREQ$i" news@mail.shop.example.vn an@example.vn "[QC] Khuyến mãi mùa thu $i" "$T/ad.txt"
done
for i in 1 2 3; do
	r=$(field "FREQ$i" report)
	case "$r" in
	*ADV_LABEL*) case "$r" in *R5=*) not_ok "R5: message $i does not hit R5 ($r)" ;;
		*) ok "R5: advertising message $i of 3 passes" ;; esac ;;
	*) not_ok "R5: message $i is seen as advertising (report: $r)" ;;
	esac
done
r=$(field FREQ4 report)
case "$r" in
*"R5=5 (an@example.vn: advertising email 4 from example.vn"*) ok "R5: the 4th message in 24 h hits R5" ;;
*) not_ok "R5: the 4th message hits R5 (report: $r)" ;;
esac
check "R5: log line of the 4th names R5" grep -qE 'FREQ4: .*rules=[^ ]*R5=5' "$T/milter.log"
ttl=$(rc pttl "cr:freq:example.vn:an@example.vn")
check "R5: the counter key expires within 24 h ($ttl ms)" test "$ttl" -gt 86000000 -a "$ttl" -le 86400000
expect_eq "R5: four arrivals counted" "4" "$(rc zcard cr:freq:example.vn:an@example.vn)"
# another recipient, and another advertiser, are counted apart
send FREQ5 news@mail.shop.example.vn binh@example.vn "[QC] Khuyến mãi mùa thu 5" "$T/ad.txt"
case "$(field FREQ5 report)" in *R5=*) not_ok "R5: another recipient is counted apart" ;;
*ADV_LABEL*) ok "R5: another recipient is counted apart" ;; *) not_ok "R5: FREQ5 seen as advertising" ;; esac
send FREQ6 news@other-shop.vn an@example.vn "[QC] Ưu đãi" "$T/ad.txt"
case "$(field FREQ6 report)" in *R5=*) not_ok "R5: another advertiser is counted apart" ;;
*ADV_LABEL*) ok "R5: another advertiser is counted apart" ;; *) not_ok "R5: FREQ6 seen as advertising" ;; esac
# 12 messages at once to one recipient: every one counted once (one script per
# recipient is atomic), so exactly the 9 after the first 3 hit R5
par=()
for i in $(seq 1 12); do
	send "PAR$i" news@mail.shop.example.vn par@example.vn "[QC] Song song $i" "$T/ad.txt" &
	par+=("$!")
done
for p in "${par[@]}"; do wait "$p"; done # each miltertest ends by its own timeouts
expect_eq "R5 concurrent: 12 arrivals counted" "12" "$(rc zcard cr:freq:example.vn:par@example.vn)"
expect_eq "R5 concurrent: exactly 9 of 12 hit R5" "9" "$(cat "$T"/PAR*.out | grep -c '^# report: .*R5=5')"
# plain mail is never counted
printf 'Hi An,\nlunch on Thursday at noon? I booked the usual place.\nMinh\n' >"$T/plain.txt"
send PLAIN1 minh@friends.example.vn an@example.vn "lunch" "$T/plain.txt"
expect_eq "R5: personal mail is not counted" "" "$(rc keys 'cr:freq:friends*')"

# ---- R7: opt-outs --------------------------------------------------------------------
expect_rc "optout add: --advertiser with --channel web" 0 \
	cr optout add Chi@Example.vn --advertiser mail.shop.example.vn --channel web
check "optout add: prints the request" grep -q "opt-out 1: chi@example.vn refuses advertising from example.vn (channel web)" "$T/last.out"
send OPT1 news@mail.shop.example.vn "chi@example.vn,dung@example.vn" "[QC] Khuyến mãi" "$T/ad.txt"
expect_eq "R7: the message is accepted for the others" "accept" "$(field OPT1 reply)"
expect_eq "R7: only the opted-out recipient is removed (smfi_delrcpt)" "chi@example.vn" "$(field OPT1 rcptdel)"
case "$(field OPT1 report)" in
*"R7=10 (chi@example.vn opted out of advertising from example.vn at "*) ok "R7: hit reported with the recipient and advertiser" ;;
*) not_ok "R7: hit reported (report: $(field OPT1 report))" ;;
esac
check "R7: the removal is logged" grep -q "OPT1: rcpt=<chi@example.vn> removed: R7" "$T/milter.log"
check "R7: the log line counts the removed recipient" grep -qE "OPT1: .* rcpts=2 rcpts_removed=1 .*action=accept" "$T/milter.log"
AT=$(date -u -d "@$(rc hget 'cr:{oo}:rec:1' at)" +%FT%TZ)
send OPT2 news@mail.shop.example.vn chi@example.vn "[QC] Khuyến mãi" "$T/ad.txt" "" \
	"Rejected as spam: R7 chi@example.vn opted out of advertising from example.vn at $AT (request 1)"
expect_eq "R7: alone, the opted-out recipient gets 550" "reject" "$(field OPT2 reply)"
check "R7: reject logged with the reply" grep -qE 'OPT2: .*action=reject .*reply="Rejected as spam: R7 chi@example.vn opted out' "$T/milter.log"
send OPT3 news@other-shop.vn chi@example.vn "[QC] Ưu đãi" "$T/ad.txt"
expect_eq "R7: another advertiser still reaches the recipient" "accept" "$(field OPT3 reply)"
send OPT4 minh@friends.example.vn chi@example.vn "lunch" "$T/plain.txt"
expect_eq "R7: personal mail still reaches the recipient" "accept" "$(field OPT4 reply)"
# refusing all advertising, with a time in the past
expect_rc "optout add: --all --channel phone --at" 0 \
	cr optout add dung@example.vn --all --channel phone --at "$(date -u -d '-1 hour' +%FT%TZ)"
send OPT5 news@other-shop.vn "dung@example.vn,an@example.vn" "[QC] Ưu đãi" "$T/ad.txt"
expect_eq "R7 --all: removed for that recipient only" "dung@example.vn" "$(field OPT5 rcptdel)"
case "$(field OPT5 report)" in *"dung@example.vn opted out of all advertising"*) ok "R7 --all: reason says all advertising" ;;
*) not_ok "R7 --all: reason (report: $(field OPT5 report))" ;; esac
# an opt-out later than the message does not apply (--at in the future is refused)
expect_rc "optout add: --at in the future is bad input" 2 \
	cr optout add em@example.vn --all --channel web --at "$(date -u -d '+1 day' +%FT%TZ)"
# list, confirm, del
expect_rc "optout list --json" 0 cr optout list --json
check "optout list --json: both requests" grep -q '"id":1,"rcpt":"chi@example.vn","advertiser":"example.vn","channel":"web"' "$T/last.out"
check "optout list --json: the --all request" grep -q '"id":2,"rcpt":"dung@example.vn","advertiser":"\*","channel":"phone"' "$T/last.out"
expect_rc "optout confirm 1" 0 cr optout confirm 1
check "optout confirm: time recorded" test "$(rc hget 'cr:{oo}:rec:1' confirmed)" -gt 0
expect_rc "optout confirm of an unknown id: exit 1" 1 cr optout confirm 99
expect_rc "optout add again: already recorded, exit 0" 0 cr optout add chi@example.vn --advertiser example.vn --channel email
check "optout add again: names the existing request" grep -q "request 1 (nothing changed)" "$T/last.out"
expect_rc "optout list RCPT" 0 cr optout list chi@example.vn
expect_eq "optout list RCPT: one line" "1" "$(wc -l <"$T/last.out" | tr -d ' ')"
expect_rc "optout del 1" 0 cr optout del 1
send OPT6 news@mail.shop.example.vn chi@example.vn "[QC] Khuyến mãi" "$T/ad.txt"
case "$(field OPT6 report)" in *R7=*) not_ok "R7: after optout del the recipient gets it again" ;;
*) expect_eq "R7: after optout del the recipient gets it again" "accept" "$(field OPT6 reply)" ;; esac
expect_rc "optout del of a deleted id: exit 1" 1 cr optout del 1
# R5 counts only what is delivered: a message rejected (R7 for its only
# recipient: 550), or removed for a recipient (smfi_delrcpt), is forgotten for
# that recipient, so R5 fires at the 4th delivered message (RJ6), not at RJ4
send RJ1 news@mail.shop.example.vn rj@example.vn "[QC] Khuyến mãi 1" "$T/ad.txt"
expect_eq "R5 after a reject: message 1 accepted" "accept" "$(field RJ1 reply)"
expect_rc "optout add rj@example.vn" 0 cr optout add rj@example.vn --advertiser example.vn --channel web
RJID=$(sed -n 's/^opt-out \([0-9]*\): .*/\1/p' "$T/last.out")
send RJ2 news@mail.shop.example.vn rj@example.vn "[QC] Khuyến mãi 2" "$T/ad.txt"
check "R5 after a reject: message 2 rejected (R7, only recipient)" grep -qE 'RJ2: .*action=reject' "$T/milter.log"
send RJ3 news@mail.shop.example.vn "rj@example.vn,sam@example.vn" "[QC] Khuyến mãi 3" "$T/ad.txt"
expect_eq "R5 after a reject: message 3 removed for rj only" "rj@example.vn" "$(field RJ3 rcptdel)"
expect_eq "R5 after a reject: the rejected and removed messages are not counted" "1" \
	"$(rc zcard cr:freq:example.vn:rj@example.vn)"
expect_eq "R5 after a reject: the recipient who got message 3 has it counted" "1" \
	"$(rc zcard cr:freq:example.vn:sam@example.vn)"
expect_rc "optout del rj@example.vn's request" 0 cr optout del "$RJID"
for i in 4 5 6; do
	send "RJ$i" news@mail.shop.example.vn rj@example.vn "[QC] Khuyến mãi $i" "$T/ad.txt"
done
for i in 4 5; do
	case "$(field "RJ$i" report)" in
	*R5=*) not_ok "R5 after a reject: message $i (delivered #$((i - 2))) does not hit R5" ;;
	*ADV_LABEL*) ok "R5 after a reject: message $i (delivered #$((i - 2))) does not hit R5" ;;
	*) not_ok "R5 after a reject: RJ$i seen as advertising" ;;
	esac
done
case "$(field RJ6 report)" in
*"R5=5 (rj@example.vn: advertising email 4 from example.vn"*) ok "R5 after a reject: fires at message 6, the 4th delivered" ;;
*) not_ok "R5 after a reject: fires at message 6 (report: $(field RJ6 report))" ;;
esac
expect_eq "R5 after a reject: four delivered counted" "4" "$(rc zcard cr:freq:example.vn:rj@example.vn)"

# ---- R5's legacy limit: [frequency] same_content_max = 1, in a second chanrac-milter ----
# The same advertisement twice to one recipient: the 2nd hits R5 (a copy with
# another salutation and tracking id is the same content); another
# advertisement of the same advertiser does not.
MPORT1=$MPORT
MPORT=$(free_port)
sed -e "s/^socket = .*/socket = inet:$MPORT@127.0.0.1/" "$T/chanrac.conf" >"$T/content.conf"
printf '[frequency]\nsame_content_max = 1\n' >>"$T/content.conf"
if start_milter "$T/content.conf" "$T/milter2.log"; then
	ok "same content: a chanrac-milter with same_content_max = 1 listens"
else
	not_ok "same content: chanrac-milter starts"
fi
sed -e 's/Nguyễn Văn An/Trần Thị Bình/' -e 's/uid=88421/uid=50317/' "$T/ad.txt" >"$T/ad-copy.txt"
# another advertisement: other text, the same advertiser block and opt-out section
{ cat <<'EOF2'
Đón Tết sớm cùng Cửa hàng Điện máy Xanh: tủ lạnh, máy giặt và điều hoà giảm giá tới 40%,
tặng kèm bộ nồi inox cho mọi đơn hàng từ 5 triệu đồng, lắp đặt miễn phí tại nhà.
Đặt hàng tại https://shop.example.vn/tet trước ngày 20 tháng Chạp.

EOF2
  sed -n '/^Công ty TNHH/,$p' "$T/ad.txt"; } >"$T/ad-other.txt"
# the template id, as chanrac scan gives it for the same text
{ printf 'From: Shop <news@mail.shop.example.vn>\nSubject: [QC] x\nMIME-Version: 1.0\n'
  printf 'Content-Type: text/plain; charset=utf-8\n\n'; cat "$T/ad.txt"; } >"$T/ad.eml"
CID=$(cr scan "$T/ad.eml" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["template_id"])')
check "same content: chanrac scan gives the ad's template id ($CID)" grep -qE '^[0-9a-f]{16}$' <<<"$CID"
send LC1 news@mail.shop.example.vn lc@example.vn "[QC] Khuyến mãi mùa thu" "$T/ad.txt"
send LC2 news@mail.shop.example.vn lc@example.vn "[QC] Khuyến mãi mùa thu (nhắc lại)" "$T/ad-copy.txt"
send LC3 news@mail.shop.example.vn lc@example.vn "[QC] Đón Tết sớm" "$T/ad-other.txt"
case "$(field LC1 report)" in
*R5=*) not_ok "same content: the first copy does not hit R5" ;;
*ADV_LABEL*) ok "same content: the first copy does not hit R5" ;;
*) not_ok "same content: LC1 seen as advertising ($(field LC1 report))" ;;
esac
case "$(field LC2 report)" in
*"R5=5 (lc@example.vn: advertising email 2 with the same content (template $CID) from example.vn within 86400s (at most 1))"*)
	ok "same content: the second copy (other salutation and tracking id) hits R5" ;;
*) not_ok "same content: the second copy hits R5 (report: $(field LC2 report))" ;;
esac
case "$(field LC3 report)" in
*R5=*) not_ok "same content: another ad of the same advertiser does not hit R5" ;;
*ADV_LABEL*) ok "same content: another ad of the same advertiser does not hit R5" ;;
*) not_ok "same content: LC3 seen as advertising ($(field LC3 report))" ;;
esac
expect_eq "same content: two copies counted under the ad's key" "2" "$(rc zcard "cr:freq:example.vn#$CID:lc@example.vn")"
expect_eq "same content: the advertiser's counter has all three" "3" "$(rc zcard cr:freq:example.vn:lc@example.vn)"
# a copy removed for one recipient (R7) is forgotten in its content counter too
expect_rc "same content: optout add lc2@example.vn" 0 cr optout add lc2@example.vn --advertiser example.vn --channel web
send LC4 news@mail.shop.example.vn "lc2@example.vn,lc3@example.vn" "[QC] Khuyến mãi" "$T/ad.txt"
expect_eq "same content: LC4 removed for the opted-out recipient" "lc2@example.vn" "$(field LC4 rcptdel)"
expect_eq "same content: not counted for the removed recipient" "0" "$(rc zcard "cr:freq:example.vn#$CID:lc2@example.vn")"
expect_eq "same content: counted for the one who got it" "1" "$(rc zcard "cr:freq:example.vn#$CID:lc3@example.vn")"
# the first milter (same_content_max = 0) keeps no content counter
expect_eq "same content: off by default (no content key for an@example.vn)" "" \
	"$(rc --scan --pattern "cr:freq:example.vn#*:an@example.vn")"
MPORT=$MPORT1

# ---- spam templates ------------------------------------------------------------------
cat >"$T/spam.eml" <<'EOF2'
From: Lucky Draw <win@lucky.example>
To: you@example.vn
Subject: You have won

Dear Mr Tran,

Congratulations! Your email address was selected in our international lucky draw and
you have won a cash prize of 850,000 USD. To claim the prize send your full name, bank
account number and a copy of your passport to our claims agent before Friday.
A processing fee of 250 USD applies and must be paid by wire transfer.
Visit http://claims.lucky.example/form?ref=ZX81-7731 for details.
EOF2
cat >"$T/reworded.txt" <<'EOF2'
Dear Ms Hoa,

CONGRATULATIONS!   Your email address was selected in our international lucky draw and
you have won a cash prize of 1,200,000 USD.  To claim the prize please send your full name,
bank account number and a copy of your passport to our claims agent before Monday.
A small processing fee of 300 USD applies and must be paid by wire transfer.
Visit http://claims.lucky.example/f?ref=QQ19-0001 for details.
EOF2
expect_rc "template add FILE --reason" 0 cr template add "$T/spam.eml" --reason "advance-fee lottery scam"
TID=$(sed -n 's/^added template \([0-9a-f]\{16\}\) .*/\1/p' "$T/last.out")
check "template add: prints the id ($TID)" test -n "$TID"
send TPL1 win@lucky.example hoa@example.vn "Prize notification" "$T/reworded.txt"
case "$(field TPL1 report)" in
*"TEMPLATE=10 (matches spam template $TID ("*"% similar): advance-fee lottery scam)"*) ok "template: a reworded copy matches" ;;
*) not_ok "template: a reworded copy matches (report: $(field TPL1 report))" ;;
esac
send TPL2 minh@friends.example.vn an@example.vn "lunch" "$T/plain.txt"
case "$(field TPL2 report)" in *TEMPLATE*) not_ok "template: unrelated mail does not match" ;;
*) ok "template: unrelated mail does not match" ;; esac
expect_rc "template add of the same file: exit 0, nothing changed" 0 cr template add "$T/spam.eml" --reason again
check "template add again: says already present" grep -q "already present" "$T/last.out"
expect_rc "template list --json" 0 cr template list --json
check "template list --json: the template with its reason" grep -q "\"id\":\"$TID\",\"reason\":\"advance-fee lottery scam\"" "$T/last.out"
expect_eq "template list --json: one template" "1" "$(grep -o '"id":' "$T/last.out" | wc -l | tr -d ' ')"

# ---- outbound (P4) --------------------------------------------------------------------
for i in 1 2 3 4; do
	send "OUT$i" sales@sender.test "x$i@example.org" "offer $i" "$T/plain.txt" sender1
done
expect_eq "outbound: 1st message of the hour not held" "no" "$(field OUT1 quarantine)"
expect_eq "outbound: 2nd message of the hour not held" "no" "$(field OUT2 quarantine)"
expect_eq "outbound: the 3rd (over 2 an hour) is held" "yes" "$(field OUT3 quarantine)"
case "$(field OUT3 report)" in *"OUT_LIMIT=0 (3 messages this hour from user sender1 (limit 2); user held)"*) ok "outbound: OUT_LIMIT reported" ;;
*) not_ok "outbound: OUT_LIMIT reported (report: $(field OUT3 report))" ;; esac
expect_eq "outbound: the user stays held (4th)" "yes" "$(field OUT4 quarantine)"
case "$(field OUT4 report)" in *"OUT_HELD=0 (user sender1 held since "*) ok "outbound: OUT_HELD reported" ;;
*) not_ok "outbound: OUT_HELD reported (report: $(field OUT4 report))" ;; esac
check "outbound: the hold is logged for the operator" grep -q "OUT3: outbound: user sender1 held: 3 messages this hour" "$T/milter.log"
expect_rc "outbound status --json" 0 cr outbound status --json
check "outbound status --json: sender1 held" grep -q '"user":"sender1"' "$T/last.out"
expect_rc "outbound status USER" 0 cr outbound status sender1
check "outbound status USER: held messages listed" grep -qE "held	.*OUT3" "$T/last.out"
check "outbound status USER: the 4th listed too" grep -qE "held	.*OUT4" "$T/last.out"
expect_rc "outbound release sender1" 0 cr outbound release sender1
check "outbound release: names the held messages" grep -q "2 message(s) held meanwhile" "$T/last.out"
send OUT5 sales@sender.test x5@example.org "offer 5" "$T/plain.txt" sender1
expect_eq "outbound: after release the next message goes" "no" "$(field OUT5 quarantine)"
expect_eq "outbound: after release the message is accepted" "accept" "$(field OUT5 reply)"
expect_rc "outbound release of a user not held: exit 1" 1 cr outbound release sender1
send OUT6 sales@sender.test y@example.org "hello" "$T/plain.txt" sender2
expect_eq "outbound: another user is not held" "no" "$(field OUT6 quarantine)"

# ---- R8: opt-out confirmations on outbound mail ----------------------------------------
cat >"$T/confirm.txt" <<'EOF2'
Kính gửi quý khách,
Chúng tôi xác nhận đã nhận yêu cầu hủy đăng ký của quý khách lúc 08:00 ngày 30/11/2026.
Thư quảng cáo ngừng gửi đến địa chỉ này từ 08:05 ngày 30/11/2026.
EOF2
# the whole X-Chanrac-Report of QID, unfolded
report() { awk '/^# report: /{p=1} p' "$T/$1.out" | tr -s '\n\t' ' '; }
send R8A cskh@sender.test khach@example.org "Unsubscribe confirmation" "$T/confirm.txt" sender3
case "$(report R8A)" in *R8=*) not_ok "R8: a first, complete confirmation passes ($(report R8A))" ;;
*) ok "R8: a first, complete confirmation passes" ;; esac
expect_eq "R8: the confirmation is counted" "1" "$(rc zcard cr:r8:sender3:khach@example.org)"
send R8B cskh@sender.test khach@example.org "Unsubscribe confirmation" "$T/confirm.txt" sender3
case "$(report R8B)" in
*"R8=3 (opt-out confirmation (Subject): not the first: confirmation 2 to khach@example.org from user sender3 within 2592000s)"*)
	ok "R8: a second confirmation to the same recipient is reported" ;;
*) not_ok "R8: a second confirmation is reported (report: $(report R8B))" ;;
esac
check "R8: the log line names R8" grep -qE 'R8B: .*rules=[^ ]*R8=3' "$T/milter.log"

# ---- bad input: exit 2, nothing changed ----------------------------------------------
before=$(rc --scan | sort | md5sum)
printf 'From: a@b.example\nSubject: hi\n\nthanks, see you\n' >"$T/short.eml"
expect_rc "template add without --reason: exit 2" 2 cr template add "$T/spam.eml"
expect_rc "template add of a missing file: exit 2" 2 cr template add "$T/nosuch.eml" --reason x
expect_rc "template add of a near-empty message: exit 2" 2 cr template add "$T/short.eml" --reason x
check "template add near-empty: says too short" grep -q "too short to fingerprint" "$T/last.err"
expect_rc "template del of a bad id: exit 2" 2 cr template del nothex
expect_rc "template: unknown subcommand: exit 2" 2 cr template frob
expect_rc "optout add without an address: exit 2" 2 cr optout add not-an-address --all --channel web
expect_rc "optout add without --channel: exit 2" 2 cr optout add x@example.vn --all
expect_rc "optout add with a bad --channel: exit 2" 2 cr optout add x@example.vn --all --channel fax
expect_rc "optout add with --all and --advertiser: exit 2" 2 cr optout add x@example.vn --all --advertiser a.vn --channel web
expect_rc "optout add with a bad advertiser: exit 2" 2 cr optout add x@example.vn --advertiser 'bad domain' --channel web
expect_rc "optout add with a bad --at: exit 2" 2 cr optout add x@example.vn --all --channel web --at yesterday
expect_rc "optout confirm of a non-number: exit 2" 2 cr optout confirm abc
expect_rc "optout del of a negative id: exit 2" 2 cr optout del -- -4
expect_rc "outbound release without a user: exit 2" 2 cr outbound release
expect_rc "outbound release of a user with braces: exit 2" 2 cr outbound release 'a{b}'
expect_rc "outbound: unknown subcommand: exit 2" 2 cr outbound frob
expect_eq "bad input changed nothing in Redis" "$before" "$(rc --scan | sort | md5sum)"

# ---- Redis down: rules skipped, verdict degraded, never a wrong reject ------------------
expect_rc "optout add for the outage test" 0 cr optout add gia@example.vn --all --channel email
stop_redis
send DOWN1 news@mail.shop.example.vn gia@example.vn "[QC] Khuyến mãi" "$T/ad.txt"
expect_eq "redis down: an opted-out recipient is not rejected" "accept" "$(field DOWN1 reply)"
check "redis down: the verdict is degraded (store)" grep -qE "DOWN1: .*action=accept .*degraded=store" "$T/milter.log"
check "redis down: the failure is logged" grep -q "skipped: redis 127.0.0.1:$REDIS_PORT" "$T/milter.log"
expect_rc "redis down: chanrac optout list exits 3" 3 cr optout list
expect_rc "redis down: chanrac template list exits 3" 3 cr template list
expect_rc "redis down: chanrac outbound status exits 3" 3 cr outbound status
check "redis down: the milter is still running" kill -0 "$MPID"
check "the milter logged no crash" sh -c "! grep -qiE 'segfault|abort|assert' '$T/milter.log'"
finish
