-- url.lua: a body URL whose registered domain is on the shared domain list
-- scores (DBL_CHANRAC in X-Chanrac-Report); the same message without it does not.
dofile(DIR .. "/common.lua")
local conn = open("192.0.2.11", "mail.pass.test")
send(conn, "URLQ1", "<shop@pass.test>", "<user@example.vn>",
	std_headers("shop@pass.test", "sale"),
	"Big sale today: http://www.quangcao-spam.vn/khuyen-mai?id=1\r\n")
local report = added(conn, "X-Chanrac-Report")
mt.echo("# report: " .. report)
check("url: accepted (score below the thresholds)", accepted(conn))
check("url: listed URL domain scores DBL_CHANRAC",
	string.find(report, "DBL_CHANRAC", 1, true) ~= nil)
check("url: the report names the domain",
	string.find(report, "quangcao-spam.vn", 1, true) ~= nil)
mt.disconnect(conn)

conn = open("192.0.2.11", "mail.pass.test")
send(conn, "URLQ2", "<shop@pass.test>", "<user@example.vn>",
	std_headers("shop@pass.test", "no sale"),
	"Nothing today: http://www.example.org/\r\n")
report = added(conn, "X-Chanrac-Report")
check("url: an unlisted URL domain does not score",
	report ~= "" and string.find(report, "DBL_CHANRAC", 1, true) == nil)
mt.disconnect(conn)
