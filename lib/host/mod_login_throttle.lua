-- xmpp-constructs: refuse logins from an address for a window after its last of N failures (SASL, SASL2).
local st = require "util.stanza";
local now = require "util.time".now;
local max = module:get_option_number("login_throttle_failures", 5);
local window = module:get_option_number("login_throttle_window", 300);
local failed = module:shared("/*/login_throttle/failed");
local state = module:shared("/*/login_throttle/state");
local sasl = "urn:ietf:params:xml:ns:xmpp-sasl";

module:hook("authentication-failure", function (event)
	local ip, t = event.session and event.session.ip, now();
	if not ip then return; end
	if t - (state.purged or 0) >= window then
		state.purged = t;
		for k, e in pairs(failed) do if t - e.last >= window then failed[k] = nil; end end
	end
	local e = failed[ip];
	if not e or t - e.last >= window then e = { n = 0 }; failed[ip] = e; end
	e.n, e.last = e.n + 1, t;
	if e.n == max then module:log("warn", "Refusing logins from %s for %d s after %d failed attempts", ip, window, max); end
end);

local function refuse(session, xmlns, condition_ns)
	local e = failed[session.ip or ""];
	if session.type ~= "c2s_unauthed" or not e or e.n < max or now() - e.last >= window then return; end
	session.send(st.stanza("failure", { xmlns = xmlns }):tag("temporary-auth-failure", { xmlns = condition_ns }):up()
		:text_tag("text", "Too many failed logins; try later"));
	return true;
end
module:hook("stanza/"..sasl..":auth", function (event) return refuse(event.origin, sasl); end, 10);
module:hook("stanza/urn:xmpp:sasl:2:authenticate", function (event) return refuse(event.origin, "urn:xmpp:sasl:2", sasl); end, 10);
