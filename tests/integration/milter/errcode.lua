-- errcode.lua: a DNSBL answer in 127.255.255.0/24 (an error code, e.g. "query
-- refused through a public resolver") is not a listing; a normal code from the
-- same zone is.
dofile(DIR .. "/common.lua")
local conn = open("192.0.2.55", "mail.example.org")
send(conn, "ERRQ1", "<x@none.test>", "<user@example.vn>",
	std_headers("x@none.test", "error code"), "Hello\r\n")
local report = added(conn, "X-Chanrac-Report")
mt.echo("# 127.255.255.254: " .. report)
check("errcode: accepted", accepted(conn))
check("errcode: 127.255.255.254 does not score ERR_TEST",
	report ~= "" and string.find(report, "ERR_TEST=", 1, true) == nil)
mt.disconnect(conn)

conn = open("192.0.2.56", "mail.example.org")
send(conn, "ERRQ2", "<x@none.test>", "<user@example.vn>",
	std_headers("x@none.test", "real code"), "Hello\r\n")
report = added(conn, "X-Chanrac-Report")
mt.echo("# 127.0.0.2: " .. report)
check("errcode: control: 127.0.0.2 from the same zone scores ERR_TEST",
	string.find(report, "ERR_TEST", 1, true) ~= nil)
mt.disconnect(conn)
