-- spf.lua: SPF of the MAIL FROM domain (records served by fakedns) is reported
-- in Authentication-Results: pass (client in ip4:192.0.2.0/24), fail (-all),
-- none (no record).
dofile(DIR .. "/common.lua")
local cases = {
	{ "pass", "pass.test", "spf=pass smtp.mailfrom=pass.test" },
	{ "fail", "fail.test", "spf=fail smtp.mailfrom=fail.test" },
	{ "none", "none.test", "spf=none smtp.mailfrom=none.test" },
}
for i, c in ipairs(cases) do
	local conn = open("192.0.2.12", "mail.example.org")
	send(conn, "SPFQ" .. i, "<x@" .. c[2] .. ">", "<user@example.vn>",
		std_headers("x@" .. c[2], "spf " .. c[1]), "Hello\r\n")
	local ar = added(conn, "Authentication-Results")
	mt.echo("# " .. c[1] .. ": " .. ar)
	check("spf " .. c[1] .. ": accepted", accepted(conn))
	check("spf " .. c[1] .. ": Authentication-Results says " .. c[3],
		string.find(ar, c[3], 1, true) ~= nil)
	check("spf " .. c[1] .. ": authserv-id first",
		string.find(ar, "mx.chanrac.test;", 1, true) == 1)
	mt.disconnect(conn)
end
