/**
 * Converse.js 14.0.0 (the web client the droplet serves), driven as its user would: through the
 * page, over a playwright Page (see test/support/browser.ts for the browser itself).
 *
 * Selectors, and the Converse source file (node_modules/converse.js/src/…) each comes from.
 * Custom element names, `name` attributes and titles come first; Bootstrap layout classes are
 * avoided. Each is in SELECTORS below.
 *
 *   Login (settings: locked_domain, so the username alone; allow_user_trust_override)
 *     converse-login-form                          plugins/controlbox/loginform.js (element name)
 *     input[name="jid"], input[name="password"],
 *     input[name="trusted"], button[type="submit"] plugins/controlbox/templates/loginform.js
 *     .conn-feedback (alert-danger/-info/-warning)  plugins/controlbox/templates/loginform.js,
 *                                                   plugins/controlbox/constants.js (CSS classes)
 *   Logged in
 *     converse-user-profile                        plugins/profile/statusview.js; rendered by
 *                                                   plugins/controlbox/templates/controlbox.js only
 *                                                   once the control box is `connected`
 *   A new 1:1 chat ("Start a new chat", shown while allow_non_roster_messaging is true)
 *     .dropdown--contacts (a converse-dropdown)    plugins/rosterview/templates/roster.js
 *     button.dropdown-toggle                       shared/components/dropdown.js
 *     a.new-chat                                   plugins/rosterview/templates/roster.js
 *     converse-new-chat-modal input[name="jid"]    plugins/rosterview/modals/new-chat.js,
 *                                                   plugins/rosterview/modals/templates/new-chat.js
 *   A chat
 *     converse-chat[jid="…"]                       plugins/chatview/chat.js,
 *                                                   plugins/chatboxviews/templates/chats.js (jid attribute)
 *     textarea.chat-textarea                       plugins/chatview/templates/message-form.js
 *                                                   (Enter sends: plugins/chatview/message-form.js onKeyDown)
 *     .chat-msg[data-from][data-encrypted],
 *     .chat-msg__content--me / --them              shared/chat/templates/message.js
 *     converse-chat-message-body[text="…"]         shared/chat/templates/message-text.js
 *     .chat-info.chat-error                        shared/chat/templates/info-message.js
 *     .chat-msg__error                             shared/chat/templates/message-text.js
 *     progress (upload under way)                  shared/chat/templates/file-progress.js
 *   Toolbar
 *     converse-chat-toolbar input.fileupload       shared/chat/toolbar.js getHTTPUploadButton (only
 *                                                   when the server's disco announces urn:xmpp:http:upload:0)
 *     button.toggle-omemo (fa-lock / fa-unlock)    plugins/omemo-views/utils.js
 *   Groupchats ("Add groupchat")
 *     converse-rooms-list converse-dropdown        plugins/roomslist/templates/roomslist.js
 *     a.show-add-muc-modal                         plugins/roomslist/templates/roomslist.js
 *     converse-add-muc-modal input[name="chatroom"]   plugins/muc-views/modals/templates/add-muc.js,
 *                                                   shared/autocomplete/component.js (the input)
 *     converse-add-muc-modal input[name="nickname"],
 *     input[name="join"]                           plugins/muc-views/modals/templates/add-muc.js
 *   A groupchat
 *     converse-muc[jid="…"]                        plugins/muc-views/muc.js,
 *                                                   plugins/chatboxviews/templates/chats.js
 *     converse-muc-chatarea (entered)              plugins/muc-views/utils.js getChatRoomBodyTemplate
 *     converse-muc-nickname-form input[name="nick"]   plugins/muc-views/templates/muc-nickname-form.js
 *     converse-muc-password-form, converse-muc-disconnected, converse-muc-destroyed
 *                                                  plugins/muc-views/utils.js getChatRoomBodyTemplate
 *     converse-muc-message-form textarea.chat-textarea  plugins/muc-views/templates/message-form.js
 *
 * OMEMO (omemo_default: true) with a peer that has no OMEMO devices, as 14.0.0 does it
 * (src/headless/plugins/omemo/utils.js): opening a chat runs checkOMEMOSupported, which asks for the
 * peer's device lists (legacy and OMEMO 2). With none, `omemo_supported` is false and
 * `omemo_default` is never applied (it only applies `if (supported && restore)`), so
 * `omemo_active` stays unset and messages and uploads go in plaintext: no refusal, no prompt; the
 * toolbar's lock button is greyed (title "OMEMO encryption is not supported"). In a groupchat,
 * OMEMO needs a members-only, non-anonymous room, and when an occupant without OMEMO joins an
 * encrypted one Converse posts "… doesn't appear to have a client that supports OMEMO …" and turns
 * encryption off. Messages this driver sends report `encrypted` from the data-encrypted attribute
 * so a test can check it.
 *
 * What the server must offer for these flows (Converse 14.0.0, src/headless): opening a chat with
 * someone not in the roster waits for `blocklistInitialized` (shared/model-with-contact.js), which
 * only comes when the domain's disco lists urn:xmpp:blocking (Prosody's mod_blocklist); the
 * upload button needs urn:xmpp:http:upload:0 on a disco item of the domain. OMEMO loads its
 * WebAssembly from the directory of the page's <script src="…converse.min.js"> (plugins/omemo/
 * crypto.js), else from the page's own directory: a page that only imports converse.min.js from
 * another module gets a 404 for /curve25519_compiled.wasm and no OMEMO.
 *
 * Every function here was run against Converse 14.0.0 in chromium with a stand-in XMPP server
 * (scratch/browser-proof: WebSocket, disco, MUC, PEP, blocking, HTTP upload), not against Prosody.
 */
import type { Locator, Page } from 'playwright-core';

/** Every selector this driver uses (see the header for the source file of each). */
export const SELECTORS = {
  loginForm: 'converse-login-form',
  loginJid: 'converse-login-form input[name="jid"]',
  loginPassword: 'converse-login-form input[name="password"]',
  loginTrusted: 'converse-login-form input[name="trusted"]',
  loginSubmit: 'converse-login-form button[type="submit"]',
  loginFeedback: 'converse-login-form .conn-feedback',
  loggedIn: 'converse-user-profile',
  contactsMenu: '.dropdown--contacts button.dropdown-toggle',
  newChatItem: '.dropdown--contacts a.new-chat',
  newChatModal: 'converse-new-chat-modal',
  roomsMenu: 'converse-rooms-list converse-dropdown button.dropdown-toggle',
  addRoomItem: 'converse-rooms-list a.show-add-muc-modal',
  addRoomModal: 'converse-add-muc-modal',
  chatTextarea: 'textarea.chat-textarea',
  uploadInput: 'converse-chat-toolbar input.fileupload',
  omemoToggle: 'converse-chat-toolbar button.toggle-omemo',
  message: '.message.chat-msg',
  messageBody: 'converse-chat-message-body',
  errorInfo: '.message.chat-info.chat-error',
  messageError: '.chat-msg__error',
} as const;

const DEFAULT_TIMEOUT_MS = 30000;

/** A CSS string literal for `s` (attribute values in selectors). */
function cssString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\a ')}"`;
}

const bareOf = (jid: string): string => jid.split('/')[0].toLowerCase();

/** The open 1:1 chat with `bareJid`. */
export function chatWith(page: Page, bareJid: string): Locator {
  return page.locator(`converse-chat[jid=${cssString(bareOf(bareJid))}]`);
}

/** The open groupchat `roomJid`. */
export function room(page: Page, roomJid: string): Locator {
  return page.locator(`converse-muc[jid=${cssString(bareOf(roomJid))}]`);
}

/** Messages in `scope` whose text is exactly `text`. */
function messagesWithText(scope: Locator, text: string): Locator {
  return scope.locator(SELECTORS.message).filter({ has: scope.page().locator(`${SELECTORS.messageBody}[text=${cssString(text)}]`) });
}

/** Poll `check` until it returns a value, or throw after `timeoutMs` with `what` and `details()`. */
async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, details?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const more = details ? await details().catch(() => '') : '';
      throw new Error(`web client: timed out after ${timeoutMs} ms waiting for ${what}${more ? `: ${more}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Load the web client at `url` and wait for its login form (or, with a stored session, for login). */
export async function openWebClient(page: Page, url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const response = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  if (response && !response.ok()) throw new Error(`web client: ${url} answered HTTP ${response.status()}`);
  await page.locator(`${SELECTORS.loginJid}, ${SELECTORS.loggedIn}`).first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * Log in with `username` alone (the client has locked_domain), on a trusted device (an untrusted
 * one gets no OMEMO: src/headless/plugins/omemo/plugin.js `enabled`). Does not wait for the
 * outcome: see waitForLoggedIn.
 */
export async function logIn(page: Page, username: string, password: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  if (username.includes('@')) throw new Error(`web client: the login form takes the username alone (locked_domain), not ${username}`);
  const jid = page.locator(SELECTORS.loginJid);
  await jid.waitFor({ state: 'visible', timeout: timeoutMs });
  await jid.fill(username);
  await page.locator(SELECTORS.loginPassword).fill(password);
  const trusted = page.locator(SELECTORS.loginTrusted);
  if ((await trusted.count()) > 0) await trusted.check();
  await page.locator(SELECTORS.loginSubmit).click();
}

/** The login form's feedback line, if it shows one (e.g. "Authentication failed."). */
export async function loginFeedback(page: Page): Promise<{ level: string; text: string } | undefined> {
  // Read in one go: the form re-renders (or goes) while the session starts.
  const found = await page.locator(SELECTORS.loginFeedback).evaluateAll((els) =>
    els.map((e) => ({ text: (e.textContent ?? '').trim(), cls: e.getAttribute('class') ?? '' })));
  const shown = found.find((f) => f.text !== '');
  if (!shown) return undefined;
  return { level: /\balert-(\w+)/.exec(shown.cls)?.[1] ?? 'none', text: shown.text };
}

/**
 * Wait until the session is up (the control box shows the user's profile). Fails early when the
 * login form is back with an error (wrong password, no connection method found, …).
 */
export async function waitForLoggedIn(page: Page, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  let failingSince: number | undefined;
  await poll('the login to complete', timeoutMs, async () => {
    if (await page.locator(SELECTORS.loggedIn).isVisible()) return true;
    // The form's fields come back (in place of its spinner) once an attempt has ended. A danger
    // alert next to them for a moment (not just while a reconnection starts) is the answer.
    const feedback = await loginFeedback(page);
    if (feedback?.level === 'danger' && (await page.locator(SELECTORS.loginJid).isVisible())) {
      failingSince ??= Date.now();
      if (Date.now() - failingSince > 3000) throw new Error(`web client: login failed: ${feedback.text}`);
    } else {
      failingSince = undefined;
    }
    return undefined;
  }, async () => {
    const form = await page.locator(SELECTORS.loginJid).isVisible();
    return `login form shown: ${form}, feedback: ${JSON.stringify(await loginFeedback(page))}`;
  });
}

/** The chat with `bareJid`, opened through "Start a new chat" unless it is already the one shown. */
export async function openChat(page: Page, bareJid: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Locator> {
  const chat = chatWith(page, bareJid);
  if (await chat.locator(SELECTORS.chatTextarea).isVisible()) return chat;
  await page.locator(SELECTORS.contactsMenu).click({ timeout: timeoutMs });
  await page.locator(SELECTORS.newChatItem).click({ timeout: timeoutMs });
  const modal = page.locator(SELECTORS.newChatModal);
  await modal.locator('input[name="jid"]').fill(bareOf(bareJid), { timeout: timeoutMs });
  await modal.locator('button[type="submit"]').click();
  await chat.locator(SELECTORS.chatTextarea).waitFor({ state: 'visible', timeout: timeoutMs });
  return chat;
}

export interface SentMessage {
  /** Whether Converse sent it OMEMO-encrypted (the message's data-encrypted attribute). */
  readonly encrypted: boolean;
}

/** Type `text` into `scope`'s message box, press Enter, and wait for it to show as ours without error. */
async function send(scope: Locator, text: string, timeoutMs: number): Promise<SentMessage> {
  const textarea = scope.locator(SELECTORS.chatTextarea);
  const mine = messagesWithText(scope, text).filter({ has: scope.page().locator('.chat-msg__content--me') });
  const before = await mine.count();
  await textarea.fill(text, { timeout: timeoutMs });
  await textarea.press('Enter');
  const sent = await poll(`the message ${JSON.stringify(text)} to show as sent`, timeoutMs, async () =>
    ((await mine.count()) > before ? mine.last() : undefined));
  const error = sent.locator(SELECTORS.messageError);
  if ((await error.count()) > 0) throw new Error(`web client: sending failed: ${await error.first().innerText()}`);
  return { encrypted: (await sent.getAttribute('data-encrypted')) === 'true' };
}

/** Open a chat with `bareJid` (not necessarily a contact) and send `text`. */
export async function sendDirectMessage(page: Page, bareJid: string, text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SentMessage> {
  const chat = await openChat(page, bareJid, timeoutMs);
  return send(chat, text, timeoutMs);
}

/**
 * Wait for a message `text` from `fromBareJid` in the 1:1 chat with them. In fullscreen mode a
 * chat that a message opened stays hidden until chosen, so the chat is opened first. Returns
 * whether it arrived encrypted.
 */
export async function waitForMessage(page: Page, fromBareJid: string, text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ encrypted: boolean }> {
  const from = bareOf(fromBareJid);
  const chat = await openChat(page, from, timeoutMs);
  const theirs = messagesWithText(chat, text).and(
    page.locator(`${SELECTORS.message}[data-from=${cssString(from)}], ${SELECTORS.message}[data-from^=${cssString(`${from}/`)}]`));
  await theirs.first().waitFor({ state: 'attached', timeout: timeoutMs });
  return { encrypted: (await theirs.first().getAttribute('data-encrypted')) === 'true' };
}

/**
 * Join groupchat `roomJid` as `nickname` through "Add groupchat" (which takes the nickname; the
 * #converse/room?jid= route would take the profile's nickname instead). Does not wait for the
 * outcome: see waitForRoomJoined.
 */
export async function joinRoom(page: Page, roomJid: string, nickname: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  await page.locator(SELECTORS.roomsMenu).click({ timeout: timeoutMs });
  await page.locator(SELECTORS.addRoomItem).click({ timeout: timeoutMs });
  const modal = page.locator(SELECTORS.addRoomModal);
  await modal.locator('input[name="chatroom"]').fill(bareOf(roomJid), { timeout: timeoutMs });
  const nick = modal.locator('input[name="nickname"]');
  if ((await nick.count()) > 0) await nick.fill(nickname);
  await modal.locator('input[name="join"]').click();
  // Converse asks for a nickname in the room itself when it has none (locked_muc_nickname etc.).
  const nickForm = room(page, roomJid).locator('converse-muc-nickname-form input[name="nick"]');
  await poll(`groupchat ${roomJid} to open`, timeoutMs, async () => {
    if (await nickForm.isVisible()) {
      await nickForm.fill(nickname);
      await room(page, roomJid).locator('converse-muc-nickname-form input[name="join"]').click();
      return true;
    }
    return (await room(page, roomJid).count()) > 0 ? true : undefined;
  });
}

/** Wait until groupchat `roomJid` is entered (its message box shows); fails early on a refusal. */
export async function waitForRoomJoined(page: Page, roomJid: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const muc = room(page, roomJid);
  await poll(`groupchat ${roomJid} to be entered`, timeoutMs, async () => {
    if (await muc.locator(`converse-muc-chatarea ${SELECTORS.chatTextarea}`).isVisible()) return true;
    for (const refusal of ['converse-muc-disconnected', 'converse-muc-destroyed', 'converse-muc-password-form']) {
      const el = muc.locator(refusal);
      if (await el.isVisible()) throw new Error(`web client: could not enter ${roomJid} (${refusal}): ${(await el.innerText()).trim()}`);
    }
    const validation = muc.locator('converse-muc-nickname-form .validation-message');
    const problem = (await validation.count()) > 0 ? (await validation.first().innerText()).trim() : '';
    if (problem) throw new Error(`web client: could not enter ${roomJid}: ${problem}`);
    return undefined;
  });
}

/** Send `text` to groupchat `roomJid` (entered already) and wait for it to show as ours. */
export async function sendRoomMessage(page: Page, roomJid: string, text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SentMessage> {
  const muc = room(page, roomJid);
  await muc.locator(SELECTORS.chatTextarea).waitFor({ state: 'visible', timeout: timeoutMs });
  return send(muc, text, timeoutMs);
}

/** Wait for a message `text` from occupant `nick` in groupchat `roomJid` (shown already). */
export async function waitForRoomMessage(page: Page, roomJid: string, nick: string, text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const muc = room(page, roomJid);
  const from = `${bareOf(roomJid)}/${nick}`;
  await messagesWithText(muc, text).and(page.locator(`${SELECTORS.message}[data-from=${cssString(from)}]`)).first()
    .waitFor({ state: 'attached', timeout: timeoutMs });
}

/**
 * Send the file at `filePath` to `bareJid` through the toolbar's upload button (XEP-0363 slot,
 * PUT, then the GET URL as the message). Returns the URL the message carries (https:, or aesgcm:
 * when Converse encrypted the file for an OMEMO chat).
 */
export async function uploadFile(page: Page, bareJid: string, filePath: string, timeoutMs = 60000): Promise<string> {
  const chat = await openChat(page, bareJid, timeoutMs);
  // Rendered once disco says the server offers HTTP upload (shared/chat/toolbar.js).
  const input = chat.locator(SELECTORS.uploadInput);
  await input.waitFor({ state: 'attached', timeout: timeoutMs }).catch(() => {
    throw new Error(`web client: no upload button in the chat with ${bareJid}: the server's disco does not offer HTTP upload (urn:xmpp:http:upload:0)`);
  });
  const urls = chat.locator(`${SELECTORS.message} .chat-msg__content--me ${SELECTORS.messageBody}`);
  const urlsOf = async (): Promise<string[]> =>
    (await urls.evaluateAll((els) => els.map((e) => e.getAttribute('text') ?? ''))).filter((t) => /^(https|aesgcm):\/\//.test(t));
  const before = new Set(await urlsOf());
  const errors = chat.locator(SELECTORS.errorInfo);
  const errorsBefore = await errors.count();
  await input.setInputFiles(filePath);
  return poll(`the upload of ${filePath} to ${bareJid}`, timeoutMs, async () => {
    if ((await errors.count()) > errorsBefore) throw new Error(`web client: upload failed: ${(await errors.last().innerText()).trim()}`);
    return (await urlsOf()).find((u) => !before.has(u));
  }, async () => `${await chat.locator('progress').count()} upload(s) in progress`);
}

/** Whether the chat with `bareJid` (open) sends encrypted, as its toolbar's lock shows it. */
export async function chatEncryption(page: Page, bareJid: string): Promise<'encrypted' | 'plaintext' | 'unsupported' | 'no-omemo'> {
  const toggle = chatWith(page, bareJid).locator(SELECTORS.omemoToggle);
  if ((await toggle.count()) === 0) return 'no-omemo';
  if ((await toggle.getAttribute('data-disabled')) === 'true') return 'unsupported';
  return (await toggle.locator('converse-icon.fa-lock').count()) > 0 ? 'encrypted' : 'plaintext';
}

/** A full-page screenshot at `path`. */
export async function screenshot(page: Page, path: string): Promise<void> {
  await page.screenshot({ path, fullPage: true });
}
