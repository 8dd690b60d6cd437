-- common.lua: helpers shared by the chanrac-milter miltertest scripts
-- (tests/integration/milter_miltertest.sh runs them with -D SOCK=... and
-- -D DIR=...).  Results are printed as "ok - ..." / "not ok - ..." lines.

function check(name, cond)
	if cond then
		mt.echo("ok - " .. name)
	else
		mt.echo("not ok - " .. name)
	end
end

-- Opens a milter connection from client ip with the given HELO name.
function open(ip, helo)
	local conn = mt.connect(SOCK, 40, 0.05)
	if conn == nil then
		error("cannot connect to " .. SOCK)
	end
	local err = mt.conninfo(conn, "client.example", ip)
	if err ~= nil then error("conninfo: " .. err) end
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return conn, false
	end
	if helo ~= nil then
		err = mt.helo(conn, helo)
		if err ~= nil then error("helo: " .. err) end
	end
	return conn, true
end

-- Sends one message: queue id, envelope, header fields ({name, value} pairs),
-- body; returns after end of message.
function send(conn, qid, from, rcpt, headers, body)
	local err = mt.macro(conn, SMFIC_MAIL, "i", qid)
	if err ~= nil then error("macro: " .. err) end
	err = mt.mailfrom(conn, from)
	if err ~= nil then error("mailfrom: " .. err) end
	err = mt.rcptto(conn, rcpt)
	if err ~= nil then error("rcptto: " .. err) end
	for _, h in ipairs(headers) do
		err = mt.header(conn, h[1], h[2])
		if err ~= nil then error("header: " .. err) end
	end
	err = mt.eoh(conn)
	if err ~= nil then error("eoh: " .. err) end
	err = mt.bodystring(conn, body)
	if err ~= nil then error("body: " .. err) end
	err = mt.eom(conn)
	if err ~= nil then error("eom: " .. err) end
end

-- The usual header fields of a test message.
function std_headers(from, subject)
	return {
		{ "From", "Sender <" .. from .. ">" },
		{ "To", "User <user@example.vn>" },
		{ "Subject", subject },
		{ "Date", "Sat, 22 Nov 2025 10:00:00 +0700" },
		{ "Message-ID", "<" .. subject:gsub("%W", "") .. "@test>" },
	}
end

-- Value of a header field the milter added or inserted, unfolded ("" when none).
function added(conn, name)
	local v = mt.getheader(conn, name, 0)
	if v == nil then return "" end
	-- unfold (RFC 5322 2.2.3): a line break before white space is no content
	return (string.gsub(v, "\r?\n([ \t])", "%1"))
end

function accepted(conn)
	local r = mt.getreply(conn)
	return r == SMFIR_ACCEPT or r == SMFIR_CONTINUE
end
