-- mod_web_client_app: offers the service's own web client on the invitation pages. Rendered by xmpp-constructs.
-- mod_register_apps lists it with the apps for every device (platform "Web", which the landing page
-- never hides); after a web registration for it, the page links to it. mod_invites_register_web reads
-- the same webchat_url for its "Log in via web" button.
local url = module:get_option_string("webchat_url");
if not url then return; end
module:depends("register_apps");

module:add_item("site-app-provider", {
	id = "web-chat";
	name = "Web chat";
	text = [[Chat in this web browser, with nothing to install: right for a computer that is not yours. Any XMPP app works with the same account later.]];
	image = "assets/logos/converse-js.svg";
	link = url;
	platforms = { "Web" };
	download = {
		text = "Nothing to install: Web chat opens in your browser.";
		buttons = { { text = "Open Web chat"; url = url } };
	};
	setup = { text = [[Open Web chat and sign in with the name and password below.]] };
});
