-- verdicts.lua: one session and one message per client address in IPS (comma
-- separated), queue ids TAG1, TAG2...; prints "# verdict QID IP REPLY" per
-- message (REPLY accept, reject, tempfail, discard or other; the milter must
-- use reject_text = Rejected as spam), waiting PAUSE
-- seconds between messages.  The fault tests (tests/integration/fault_*.sh)
-- count these lines; a session that fails to run prints "# verdict QID IP error".
dofile(DIR .. "/common.lua")
mt.set_timeout(20)
local pause = tonumber(PAUSE or "0")
local i = 0
for ip in string.gmatch(IPS, "[^,]+") do
	i = i + 1
	local qid = TAG .. i
	local ok, res = pcall(function()
		local conn, open_ok = open(ip, "mail.pass.test")
		if not open_ok then
			mt.disconnect(conn)
			return "connect-" .. tostring(mt.getreply(conn))
		end
		send(conn, qid, "<alice@pass.test>", "<user@example.vn>",
			std_headers("alice@pass.test", "fault " .. qid),
			"Hello,\r\nthe minutes of the meeting are attached; please read them before\r\n" ..
			"tomorrow and send me your comments by noon so I can merge them.\r\n")
		local r = mt.getreply(conn)
		local v = "other"
		if r == SMFIR_ACCEPT or r == SMFIR_CONTINUE then
			v = "accept"
		elseif r == SMFIR_REJECT then
			v = "reject"
		elseif r == SMFIR_TEMPFAIL then
			v = "tempfail"
		elseif r == SMFIR_DISCARD then
			v = "discard"
		elseif r == SMFIR_REPLYCODE then
			if mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "Rejected as spam") then
				v = "reject"
			elseif mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1",
				"Temporary failure checking the message; try again later") then
				v = "tempfail"
			end
		end
		mt.disconnect(conn)
		return v
	end)
	if ok then
		mt.echo("# verdict " .. qid .. " " .. ip .. " " .. res)
	else
		mt.echo("# verdict " .. qid .. " " .. ip .. " error " .. tostring(res))
	end
	if pause > 0 then mt.sleep(pause) end
end
