-- xmpp-constructs: throttle password guessing (SASL, SASL2) without locking out a household.
-- N failures for one account from one address refuse that account there; M failures for any
-- accounts from one address refuse the address. Each lasts until a window after its last failure.
local st = require "util.stanza";
local now = require "util.time".now;
local encodings = require "util.encodings";
local account_max = module:get_option_number("login_throttle_failures", 5);
local address_max = module:get_option_number("login_throttle_address_failures", 20);
local window = module:get_option_number("login_throttle_window", 300);
local failed = module:shared("/*/login_throttle/failed");
local state = module:shared("/*/login_throttle/state");
local sasl = "urn:ietf:params:xml:ns:xmpp-sasl";

-- The account a SASL message names, prepared as PLAIN and SCRAM prepare it (saslprep, nodeprep).
local function account_in(mechanism, data)
	local message = data and data ~= "" and data ~= "=" and encodings.base64.decode(data);
	local name;
	if not message or not mechanism then return nil;
	elseif mechanism == "PLAIN" then name = message:match("^[^%z]*%z([^%z]+)%z");
	elseif mechanism:match("^SCRAM%-") then
		name = message:match("^[^,]*,[^,]*,n=([^,]*)");
		name = name and (name:gsub("=2C", ","):gsub("=3D", "="));
	end
	name = name and encodings.stringprep.saslprep(name);
	return name and encodings.stringprep.nodeprep(name);
end

local function account_key(session, username) return session.ip.." "..username.."@"..(session.host or ""); end

local function count(key, t)
	local e = failed[key];
	if not e or t - e.last >= window then e = { n = 0 }; failed[key] = e; end
	e.n, e.last = e.n + 1, t;
	return e.n;
end

module:hook("authentication-failure", function (event)
	local session, t = event.session, now();
	if not (session and session.ip) then return; end
	if t - (state.purged or 0) >= window then
		state.purged = t;
		for k, e in pairs(failed) do if t - e.last >= window then failed[k] = nil; end end
	end
	local username = session.sasl_handler and session.sasl_handler.username;
	if username and count(account_key(session, username), t) == account_max then
		module:log("warn", "Refusing logins to %s@%s from %s for %d s after %d failed attempts", username, session.host, session.ip, window, account_max);
	end
	if count(session.ip, t) == address_max then
		module:log("warn", "Refusing logins from %s for %d s after %d failed attempts", session.ip, window, address_max);
	end
end);

local function locked(key, max, t)
	local e = failed[key];
	return e and e.n >= max and t - e.last < window;
end

-- Refuse before the password is looked at, so a locked account's right password reveals nothing.
local function refuse(session, username, xmlns, condition_ns)
	if session.type ~= "c2s_unauthed" or not session.ip then return; end
	local handler, t = session.sasl_handler, now();
	if not (locked(session.ip, address_max, t) or (username and locked(account_key(session, username), account_max, t))) then return; end
	if handler and handler.selected then session.sasl_handler = handler:clean_clone(); end
	session.send(st.stanza("failure", { xmlns = xmlns }):tag("temporary-auth-failure", { xmlns = condition_ns }):up()
		:text_tag("text", "Too many failed logins; try later"));
	return true;
end
-- A response continues a negotiation: SCRAM named its account in the first message.
local function continued(session, data)
	local handler = session.sasl_handler;
	return handler and (handler.username or account_in(handler.selected, data));
end
module:hook("stanza/"..sasl..":auth", function (event)
	return refuse(event.origin, account_in(event.stanza.attr.mechanism, event.stanza:get_text()), sasl, sasl);
end, 10);
module:hook("stanza/"..sasl..":response", function (event)
	return refuse(event.origin, continued(event.origin, event.stanza:get_text()), sasl, sasl);
end, 10);
module:hook("stanza/urn:xmpp:sasl:2:authenticate", function (event)
	local auth = event.stanza;
	return refuse(event.origin, account_in(auth.attr.mechanism, auth:get_child_text("initial-response")), "urn:xmpp:sasl:2", sasl);
end, 10);
module:hook("stanza/urn:xmpp:sasl:2:response", function (event)
	return refuse(event.origin, continued(event.origin, event.stanza:get_text()), "urn:xmpp:sasl:2", sasl);
end, 10);
