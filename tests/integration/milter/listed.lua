-- listed.lua: a message from a client IP on the shared list (served by
-- chanrac-rbld) is rejected at end of message with 550 5.7.1 and the reply
-- text naming the list and where to get delisted (-D REPLY=the exact text).
dofile(DIR .. "/common.lua")
local conn = open("192.0.2.77", "mail.spammer.test")
send(conn, "LISTEDQ1", "<bob@none.test>", "<user@example.vn>",
	std_headers("bob@none.test", "buy now"), "Cheap offer!\r\n")
check("listed: reply code set", mt.getreply(conn) == SMFIR_REPLYCODE)
check("listed: reply text names the list and the delisting page",
	mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", REPLY))
check("listed: no header added on reject", not mt.eom_check(conn, MT_HDRADD))
mt.disconnect(conn)
