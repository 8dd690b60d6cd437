-- deadline.lua: every DNS server is silent; the verdict still comes by the
-- deadline, by the fail mode: accept with headers (-D EXPECT=accept) or
-- 451 4.7.1 with the engine's text (-D EXPECT=tempfail -D REPLY=...).
dofile(DIR .. "/common.lua")
mt.set_timeout(20)
local conn = open("192.0.2.30", "mail.example.org")
send(conn, QID, "<x@pass.test>", "<user@example.vn>",
	std_headers("x@pass.test", "silent dns"), "Hello\r\n")
if EXPECT == "accept" then
	check("deadline: accepted (fail_mode accept)", accepted(conn))
	check("deadline: headers still added", mt.eom_check(conn, MT_HDRADD, "X-Chanrac-Score"))
else
	check("deadline: 451 4.7.1 (fail_mode tempfail)",
		mt.getreply(conn) == SMFIR_REPLYCODE and
		mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1", REPLY))
end
mt.disconnect(conn)
