/* The chat widget: <script src="https://HOST/widget.js" data-lang="es" async></script> embeds it on any page.
 *
 * The conversation token lives in localStorage, so a reload or a second tab continues the same
 * conversation; the server sends the whole history on every connect and messages are deduplicated
 * by id. Each message the visitor sends gets a client_id and stays in an outbox until an ack says
 * it is stored, so a network drop loses nothing and a re-send never doubles (the server dedupes). */

import { io } from "socket.io-client";
import { el, newId, request, retriable, stored } from "./common.js";
import { TEXTS, pickLanguage } from "./widget-text.js";
import { buildView, leadForm, markUrgent, messageNode, pendingNode } from "./widget-view.js";

var SCRIPT = document.currentScript;
var SERVER = new URL(SCRIPT && SCRIPT.src ? SCRIPT.src : location.href).origin;
var TOKEN_KEY = "clinic-chat-token:" + SERVER;
var OPEN_KEY = "clinic-chat-open:" + SERVER;

function Widget(lang) {
  this.lang = lang;
  this.t = TEXTS[lang];
  this.socket = null;
  this.conversationId = null;
  this.state = null;
  this.agentName = null;
  this.nodes = {};        // message id -> its <li>
  this.outbox = [];       // {clientId, text, node, inFlight}
  this.unread = 0;
  this.typingSent = false;
  this.contactSent = false;
  this.rated = false;
  this.form = null;       // the form on show: {definition, parts}
  this.v = buildView(this, this.t);
}

Widget.prototype.start = function () {
  document.body.appendChild(this.v.host);
  var wasOpen = stored("sessionStorage", OPEN_KEY);
  if (wasOpen || stored("localStorage", TOKEN_KEY)) this.connect();
  if (wasOpen) this.open(false);
};

// -- connection ---------------------------------------------------------------

Widget.prototype.connect = function () {
  if (this.socket) return;
  var self = this;
  this.notify(this.t.connecting);
  var socket = io(SERVER + "/chat", {
    auth: function (send) { send(self.auth()); },   // read again on every reconnect: the token may be new
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnectionDelayMax: 5000
  });
  socket.on("conversation", function (c) { self.loaded(c); });
  socket.on("message", function (m) { self.add(m, false); });
  socket.on("state", function (s) { self.applyState(s); });
  socket.on("typing", function (e) { self.showTyping(e); });
  socket.on("form", function (f) { self.showForm(f); });
  socket.on("disconnect", function (reason) { self.dropped(reason); });
  socket.on("connect_error", function () {
    // The client retries network failures itself; a refusal by the server (busy, rate limit) it does not.
    self.notify(socket.active && self.conversationId ? self.t.reconnecting : self.t.unavailable);
    if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
  });
  this.socket = socket;
};

Widget.prototype.auth = function () {
  // The page without its query string or fragment, which may carry someone's email or a session id.
  var auth = { lang: this.lang, page: (location.origin + location.pathname).slice(0, 500) };
  var token = stored("localStorage", TOKEN_KEY);
  if (token) auth.token = token;
  return auth;
};

Widget.prototype.dropped = function (reason) {
  this.outbox.forEach(function (item) { item.inFlight = false; });
  if (reason === "io client disconnect") return;
  this.notify(this.t.reconnecting);
  var socket = this.socket;
  if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 3000);
};

/** The `conversation` event: the whole history, after every (re)connect. */
Widget.prototype.loaded = function (c) {
  if (this.conversationId && this.conversationId !== c.id) this.clear();
  this.conversationId = c.id;
  stored("localStorage", TOKEN_KEY, c.token);
  this.v.history.setAttribute("aria-busy", "true");  // the history is not read out again after a reload
  var self = this;
  c.messages.forEach(function (m) { self.add(m, true); });
  this.v.history.removeAttribute("aria-busy");
  var agentMessages = c.messages.filter(function (m) { return m.sender === "agent" && m.agent; });
  if (agentMessages.length) this.agentName = agentMessages[agentMessages.length - 1].agent.name;
  this.applyState({ state: c.state });
  var last = c.messages[c.messages.length - 1];
  this.showChips(last && last.sender === "bot" && c.state === "bot" ? last.quick_replies : [],
    last && last.sender === "bot" ? last.form_offer : null);
  this.flush();
};

// -- messages -----------------------------------------------------------------

/** Show a message once (by id); a message of ours that was pending takes the pending bubble's place. */
Widget.prototype.add = function (m, quiet) {
  if (m.conversation_id !== this.conversationId || this.nodes[m.id]) return;
  var node = messageNode(m, this.t, this.lang);
  var pending = m.client_id ? this.settle(m.client_id) : null;
  if (pending) this.v.log.replaceChild(node, pending);
  else this.v.log.appendChild(node);
  this.nodes[m.id] = node;
  if (m.urgent === true) markUrgent(node, this.t);  // the server marks the bot's emergency advice
  if (m.sender === "agent") this.hideTyping();
  if (m.sender === "visitor") this.showChips([]);
  if (m.sender === "bot" && !quiet) this.showChips(this.state === "bot" ? m.quick_replies : [], m.form_offer);
  if (m.sender !== "visitor" && !quiet && this.v.panel.hidden) this.countUnread(1);
  this.scrollDown();
};

Widget.prototype.scrollDown = function () {
  this.v.history.scrollTop = this.v.history.scrollHeight;
};

/** Take the message with this client_id out of the outbox; returns its pending node, if any. */
Widget.prototype.settle = function (clientId) {
  for (var i = 0; i < this.outbox.length; i++) {
    if (this.outbox[i].clientId === clientId) return this.outbox.splice(i, 1)[0].node;
  }
  return null;
};

Widget.prototype.submit = function () {
  var text = this.v.input.value.trim();
  if (!text || this.state === "closed") return;
  this.v.input.value = "";
  this.send(text);
};

Widget.prototype.send = function (text) {
  var item = { clientId: newId(), text: text, node: pendingNode(text, this.t), inFlight: false };
  this.outbox.push(item);
  this.v.log.appendChild(item.node);
  this.scrollDown();
  this.showChips([]);
  this.stopTyping();
  this.connect();
  this.flush();
};

/** Send every message not yet acked; safe to call any time (the server dedupes by client_id). */
Widget.prototype.flush = function () {
  if (!this.socket || !this.socket.connected || !this.conversationId) return;
  var self = this;
  this.outbox.forEach(function (item) { if (!item.inFlight) self.transmit(item); });
};

Widget.prototype.transmit = function (item) {
  var self = this;
  item.inFlight = true;
  request(this.socket, "message", { text: item.text, client_id: item.clientId }, function (err, ack) {
    item.inFlight = false;
    if (!err && ack.ok) self.add(ack.message, false);
    else if (retriable(err ? null : ack)) setTimeout(function () { self.flush(); }, 2000);
    else self.fail(item, ack.error);
  });
};

Widget.prototype.fail = function (item, error) {
  this.settle(item.clientId);
  item.node.classList.remove("pending");
  item.node.classList.add("failed");
  var reason = this.t.errors[error.code] || error.message;
  item.node.querySelector(".status").textContent = this.t.failed + reason;
};

// -- state --------------------------------------------------------------------

Widget.prototype.applyState = function (s) {
  if (s.conversation_id && s.conversation_id !== this.conversationId) return;
  this.state = s.state;
  if (s.agent) this.agentName = s.agent.name;
  this.v.subtitle.textContent = s.state === "agent" && this.agentName ? this.t.withAgent(this.agentName) : this.t.withBot;
  this.notify(this.stateNotice(s));
  var offline = (s.state === "queued" && s.agents_online === 0) || s.reason === "after_hours";
  this.v.offer.hidden = !offline || this.contactSent || !this.v.contact.hidden;
  if (!offline) this.v.contact.hidden = true;
  if (s.state !== "bot") this.showChips([]);
  if (s.state !== "agent") this.hideTyping();
  var closed = s.state === "closed";
  var typing = this.v.composer.contains(this.v.root.activeElement);  // about to be hidden: focus must not be lost
  this.v.closed.hidden = !closed;
  this.v.composer.hidden = closed || Boolean(this.form);
  this.v.end.hidden = closed;
  this.v.rating.hidden = !closed || !this.agentName || this.rated;
  if (this.agentName) this.v.rateLegend.textContent = this.t.rate(this.agentName);
  if (closed && typing) this.focusTarget().focus();
};

Widget.prototype.stateNotice = function (s) {
  if (s.state === "queued") {
    if (s.agents_online === 0) return this.contactSent ? this.t.contactSent : this.t.noOne;
    if (!s.queue_position) return this.t.waiting;
    var wait = s.estimated_wait_seconds ? this.t.wait(Math.max(1, Math.round(s.estimated_wait_seconds / 60))) : "";
    return this.t.position(s.queue_position) + wait;
  }
  if (s.reason === "after_hours") return this.contactSent ? this.t.contactSent : this.t.afterHours;
  return "";
};

Widget.prototype.notify = function (text) {
  this.v.notice.textContent = text;
  this.v.notice.hidden = !text;
};

/** The quick replies under the bot's answer; a form the answer offers comes first, and opens the form. */
Widget.prototype.showChips = function (replies, offer) {
  var self = this;
  this.v.chips.replaceChildren();
  if (offer && this.state !== "closed") {
    this.v.chips.appendChild(el("button", { class: "chip offer", type: "button", text: offer.label,
      onclick: function () { self.openForm(offer.id); } }));
  }
  (replies || []).forEach(function (text) {
    self.v.chips.appendChild(el("button", { class: "chip", type: "button", text: text,
      onclick: function () { self.send(text); self.v.input.focus(); } }));
  });
  this.v.chips.hidden = !this.v.chips.childNodes.length;
};

// -- typing -------------------------------------------------------------------

Widget.prototype.showTyping = function (e) {
  if (e.sender !== "agent" || e.conversation_id !== this.conversationId) return;
  clearTimeout(this.typingShown);
  if (!e.typing) return this.hideTyping();
  this.v.typing.textContent = this.t.typing(this.agentName || this.t.agent);
  this.v.typing.hidden = false;
  this.typingShown = setTimeout(this.hideTyping.bind(this), 10000);  // never stuck if "stopped" is lost
};

Widget.prototype.hideTyping = function () {
  this.v.typing.hidden = true;
};

/** Tell the representative the visitor is typing: once at the start, once 3 s after the last key. */
Widget.prototype.typed = function () {
  if (this.state !== "queued" && this.state !== "agent") return;
  if (!this.typingSent && this.socket && this.socket.connected) {
    this.socket.emit("typing", { typing: true });
    this.typingSent = true;
  }
  clearTimeout(this.typingTimer);
  this.typingTimer = setTimeout(this.stopTyping.bind(this), 3000);
};

Widget.prototype.stopTyping = function () {
  clearTimeout(this.typingTimer);
  if (!this.typingSent) return;
  this.typingSent = false;
  if (this.socket && this.socket.connected) this.socket.emit("typing", { typing: false });
};

// -- the panel ----------------------------------------------------------------

Widget.prototype.open = function (focus) {
  this.v.panel.hidden = false;
  this.v.launcher.hidden = true;
  this.v.launcher.setAttribute("aria-expanded", "true");
  this.countUnread(-this.unread);
  stored("sessionStorage", OPEN_KEY, "1");
  this.connect();
  this.scrollDown();
  if (focus) this.focusTarget().focus();
};

/** Where focus goes in the panel: the text box, or after the end the rating's first score or "Start a new conversation". */
Widget.prototype.focusTarget = function () {
  if (this.form && this.state !== "closed") return this.form.parts.first;
  if (this.state !== "closed") return this.v.input;
  return this.v.rating.hidden ? this.v.startNew : this.v.rating.querySelector("input");
};

/** Hide the panel (Escape does the same); the conversation goes on and focus returns to the launcher. */
Widget.prototype.minimize = function () {
  this.v.panel.hidden = true;
  this.v.launcher.hidden = false;
  this.v.launcher.setAttribute("aria-expanded", "false");
  stored("sessionStorage", OPEN_KEY, null);
  this.v.launcher.focus();
};

Widget.prototype.countUnread = function (delta) {
  this.unread += delta;
  this.v.badge.textContent = String(this.unread);
  this.v.badge.hidden = this.unread === 0;
  this.v.launcher.setAttribute("aria-label", this.unread ? this.t.unread(this.unread) : this.t.open);
};

/** The visitor ends the conversation; the server answers with a notice and the `closed` state. */
Widget.prototype.end = function () {
  if (this.socket && this.socket.connected) request(this.socket, "close", {});
};

/** After a closed conversation: forget its token and connect afresh, which starts a new one. */
Widget.prototype.startNew = function () {
  stored("localStorage", TOKEN_KEY, null);
  this.clear();
  this.conversationId = null;
  this.state = null;
  this.contactSent = false;
  this.rated = false;
  this.v.rating.reset();
  this.v.rated.textContent = "";
  this.applyState({ state: "bot" });
  this.socket.disconnect().connect();
  this.v.input.focus();
};

Widget.prototype.clear = function () {
  this.v.log.replaceChildren(this.v.welcome);
  this.nodes = {};
  this.outbox = [];
  this.agentName = null;
  this.form = null;
  this.v.lead.replaceChildren();
  this.v.panel.classList.remove("form-open");
  this.showChips([]);
};

// -- contact details, when nobody is online -----------------------------------

Widget.prototype.showContactForm = function () {
  this.v.offer.hidden = true;
  this.v.contact.hidden = false;
  this.scrollDown();
  this.v.contact_name.focus();
};

Widget.prototype.hideContactForm = function () {
  this.v.contact.hidden = true;
  this.v.offer.hidden = this.contactSent;
  this.v.offer.focus();
};

Widget.prototype.sendContact = function () {
  var v = this.v, self = this;
  var body = { name: v.contact_name.value.trim() };
  if (v.contact_email.value.trim()) body.email = v.contact_email.value.trim();
  if (v.contact_phone.value.trim()) body.phone = v.contact_phone.value.trim();
  if (!body.email && !body.phone) {
    v.contactError.textContent = this.t.contactHint;
    return v.contact_email.focus();
  }
  request(this.socket, "contact", body, function (err, ack) {
    if (!err && ack.ok) {
      self.contactSent = true;
      v.contact.hidden = true;
      v.contactError.textContent = "";
      self.notify(self.t.contactSent);
      return v.input.focus();
    }
    var code = err ? "internal" : ack.error.code;
    v.contactError.textContent = self.lang === "en" && !err ? ack.error.message : self.t.errors[code] || self.t.errors.internal;
  });
};

// -- forms the bot offers, and the pre-chat form ---------------------------------

Widget.prototype.openForm = function (formId) {
  var self = this;
  request(this.socket, "form_open", { form_id: formId }, function (err, ack) {
    if (!err && ack.ok) self.showForm(ack.form);
  });
};

/** Show a form (once: the ack and the `form` event bring the same one) and put the focus on its first field. */
Widget.prototype.showForm = function (form) {
  if (this.form && this.form.definition.id === form.id) return;
  var self = this;
  var parts = leadForm(form, this.t, function () { self.sendForm(); },
    form.prechat ? null : function () { self.closeForm(); });
  this.form = { definition: form, parts: parts };
  this.v.lead.replaceChildren(parts.node);
  this.v.panel.classList.add("form-open");
  this.v.composer.hidden = true;  // the form takes its place until it is sent (or, but for the pre-chat one, cancelled)
  this.showChips([]);
  this.scrollDown();  // the strip of conversation left above the form shows its latest message
  if (!this.v.panel.hidden) parts.first.focus();
};

Widget.prototype.closeForm = function () {
  this.form = null;
  this.v.lead.replaceChildren();
  this.v.panel.classList.remove("form-open");
  this.v.composer.hidden = this.state === "closed";
  if (!this.v.composer.hidden) this.v.input.focus();
};

Widget.prototype.sendForm = function () {
  var self = this, form = this.form, inputs = form.parts.inputs, values = {};
  form.definition.fields.forEach(function (field) {
    var input = inputs[field.name];
    if (field.type === "checkbox") values[field.name] = input.checked;
    else if (input.value.trim()) values[field.name] = input.value.trim();
  });
  var body = { form_id: form.definition.id, values: values, consent: inputs.consent.checked };
  request(this.socket, "form_submit", body, function (err, ack) {
    if (!err && ack.ok) return self.closeForm();
    self.formErrors(err ? null : ack.error);
  });
};

/** Each refused field gets its message under it (aria-describedby) and aria-invalid; the alert says how many,
 * and the focus goes to the first. */
Widget.prototype.formErrors = function (error) {
  var parts = this.form.parts, fields = (error && error.fields) || {}, first = null;
  Object.keys(parts.errors).forEach(function (name) {
    var message = fields[name] || "";
    parts.errors[name].textContent = message;
    if (message) parts.inputs[name].setAttribute("aria-invalid", "true");
    else parts.inputs[name].removeAttribute("aria-invalid");
    if (message && !first) first = parts.inputs[name];
  });
  var count = Object.keys(fields).length;
  parts.summary.textContent = count ? this.t.formErrors(count) :
    this.t.failed + (error ? this.t.errors[error.code] || error.message : this.t.errors.internal);
  (first || parts.first).focus();
};

// -- rating the representative, after the end -----------------------------------

Widget.prototype.rate = function () {
  var v = this.v, self = this;
  var checked = v.rating.querySelector("input[name=score]:checked");
  if (!checked) return;
  var body = { score: Number(checked.value) };
  if (v.rateComment.value.trim()) body.comment = v.rateComment.value.trim();
  request(this.socket, "rate", body, function (err, ack) {
    var code = err ? "internal" : ack.ok ? null : ack.error.code;
    if (code && code !== "already_rated" && code !== "no_agent") {
      v.rateError.textContent = self.lang === "en" && !err ? ack.error.message : self.t.errors[code] || self.t.errors.internal;
      return;
    }
    self.rated = true;
    v.rating.hidden = true;
    v.rateError.textContent = "";
    v.rated.textContent = code ? "" : self.t.rated;
    self.focusTarget().focus();
  });
};

function bootWidget() {
  if (document.querySelector("[data-clinic-chat]")) return;  // the snippet was pasted twice
  new Widget(pickLanguage(SCRIPT && SCRIPT.getAttribute("data-lang"))).start();
}

if (document.body) bootWidget();
else document.addEventListener("DOMContentLoaded", bootWidget);
