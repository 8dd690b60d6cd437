-- advert.lua: one message of tests/corpus/advert (FILE) through chanrac-milter, its
-- header fields as an MTA passes them (folded DKIM-Signature kept folded) and its
-- body with CRLF line ends.  Prints "# auth: ..." and "# report: ..." for
-- tests/integration/milter_advert.sh to check, and whether the milter accepted.
dofile(DIR .. "/common.lua")

local f = assert(io.open(FILE, "rb"))
local text = f:read("*a")
f:close()
local head, body = text:match("^(.-)\n\n(.*)$")
local headers = {}
for line in (head .. "\n"):gmatch("(.-)\n") do
	if line:match("^[ \t]") and #headers > 0 then
		-- a continuation line: the MTA passes the field folded
		headers[#headers][2] = headers[#headers][2] .. "\r\n" .. line
	else
		local name, value = line:match("^([^:]+):[ \t]?(.*)$")
		table.insert(headers, { name, value })
	end
end
body = body:gsub("\r?\n", "\r\n")

local conn = open("192.0.2.10", "mail.example.vn")
send(conn, QID, "<news@example.vn>", "<khach.hang@example.vn>", headers, body)
check(QID .. ": accepted", accepted(conn))
mt.echo("# auth: " .. added(conn, "Authentication-Results"))
mt.echo("# report: " .. added(conn, "X-Chanrac-Report"))
mt.disconnect(conn)
