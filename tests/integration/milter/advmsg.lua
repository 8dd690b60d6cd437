-- advmsg.lua: sends one message through chanrac-milter and prints what the milter
-- did as "# key: value" lines for tests/integration/milter_advstate.sh to check.
-- -D variables: SOCK, DIR, QID, FROM (address), RCPTS (comma-separated), SUBJECT,
-- BODYFILE (body text, LF line ends), AUTH (optional {auth_authen} user),
-- IP (client address, default 192.0.2.10), REPLY (the expected 550 5.7.1 text:
-- "# reply: reject" only when the milter rejected with exactly that).
dofile(DIR .. "/common.lua")

local f = assert(io.open(BODYFILE, "r"))
local body = f:read("*a"):gsub("\r?\n", "\r\n")
f:close()

local conn = open((IP ~= nil and IP ~= "") and IP or "192.0.2.10", "mail.sender.test")
local err
if AUTH ~= nil and AUTH ~= "" then
	err = mt.macro(conn, SMFIC_MAIL, "i", QID, "{auth_authen}", AUTH)
else
	err = mt.macro(conn, SMFIC_MAIL, "i", QID)
end
if err ~= nil then error("macro: " .. err) end
err = mt.mailfrom(conn, "<" .. FROM .. ">")
if err ~= nil then error("mailfrom: " .. err) end
local rcpts = {}
for r in string.gmatch(RCPTS, "[^,]+") do
	table.insert(rcpts, r)
	err = mt.rcptto(conn, "<" .. r .. ">")
	if err ~= nil then error("rcptto: " .. err) end
end
local headers = {
	{ "From", "Shop <" .. FROM .. ">" },
	{ "To", "<" .. rcpts[1] .. ">" },
	{ "Subject", SUBJECT },
	{ "Date", "Sat, 22 Nov 2025 10:00:00 +0700" },
	{ "Message-ID", "<" .. QID .. "@sender.test>" },
	{ "MIME-Version", "1.0" },
	{ "Content-Type", "text/plain; charset=utf-8" },
}
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

local r = mt.getreply(conn)
local what = "other"
if r == SMFIR_ACCEPT or r == SMFIR_CONTINUE then
	what = "accept"
elseif r == SMFIR_REPLYCODE then
	-- miltertest compares the whole reply: REPLY = the expected 550 text
	if REPLY ~= nil and mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", REPLY) then
		what = "reject"
	elseif mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1") then
		what = "tempfail"
	else
		what = "replycode"
	end
elseif r == SMFIR_REJECT then
	what = "reject"
elseif r == SMFIR_TEMPFAIL then
	what = "tempfail"
end
mt.echo("# reply: " .. what)
for _, rc in ipairs(rcpts) do
	if mt.eom_check(conn, MT_RCPTDELETE, "<" .. rc .. ">") then
		mt.echo("# rcptdel: " .. rc)
	end
end
if mt.eom_check(conn, MT_QUARANTINE) then
	mt.echo("# quarantine: yes")
else
	mt.echo("# quarantine: no")
end
mt.echo("# report: " .. added(conn, "X-Chanrac-Report"))
mt.disconnect(conn)
