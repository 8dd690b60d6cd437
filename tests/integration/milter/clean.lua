-- clean.lua: a clean message from an unlisted client whose MAIL FROM domain's
-- SPF passes is accepted with X-Chanrac-Score, X-Chanrac-Report and an
-- Authentication-Results field at the top; forged X-Chanrac fields are removed.
dofile(DIR .. "/common.lua")
local conn = open("192.0.2.10", "mail.pass.test")
local h = std_headers("alice@pass.test", "clean message")
table.insert(h, { "X-Chanrac-Score", "-100.0 / 5.0" })
table.insert(h, { "X-Chanrac-Spam", "no" })
send(conn, QID or "CLEANQ1", "<alice@pass.test>", "<user@example.vn>", h,
	"Hello,\r\nsee you at the meeting tomorrow.\r\n")
check("clean: accepted", accepted(conn))
check("clean: X-Chanrac-Score added", mt.eom_check(conn, MT_HDRADD, "X-Chanrac-Score"))
check("clean: X-Chanrac-Report added", mt.eom_check(conn, MT_HDRADD, "X-Chanrac-Report"))
check("clean: Authentication-Results inserted at the top",
	mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"))
check("clean: no X-Chanrac-Spam added", not mt.eom_check(conn, MT_HDRADD, "X-Chanrac-Spam"))
check("clean: forged X-Chanrac-Score removed", mt.eom_check(conn, MT_HDRDELETE, "X-Chanrac-Score"))
check("clean: forged X-Chanrac-Spam removed", mt.eom_check(conn, MT_HDRDELETE, "X-Chanrac-Spam"))
check("clean: not quarantined", not mt.eom_check(conn, MT_QUARANTINE))
mt.echo("# score: " .. added(conn, "X-Chanrac-Score"))
mt.echo("# report: " .. added(conn, "X-Chanrac-Report"))
mt.echo("# auth: " .. added(conn, "Authentication-Results"))
check("clean: SPF pass reported", string.find(added(conn, "Authentication-Results"),
	"spf=pass", 1, true) ~= nil)
mt.disconnect(conn)
