/* The representatives' console: sign in with an account (email and password) or a token, see the queue, take
 * and chat in tabs. An account's session lives in an HttpOnly cookie the script never sees; a token is kept in
 * sessionStorage: it survives a reload of this tab and nothing else. */

import { io } from "socket.io-client";
import { clockTime, el, request, stored } from "./common.js";
import { Alerter, REASONS, errorText, summaryCard, tickWaits, visitorLabel } from "./console-view.js";
import { Tab } from "./console-tab.js";
import { TwoStep, logIn } from "./console-account.js";
import { showHolders } from "./console-team.js";

var TOKEN_KEY = "clinic-console-token";
var REFRESH_MS = 20000;

function Desk() {
  this.socket = null;
  this.token = null;         // a representative token, or null when signed in with an account (the cookie)
  this.me = null;            // {id, name} from /console/me.json
  this.tabs = {};            // conversation id -> Tab
  this.canned = [];
  this.queueIds = null;      // ids in the last queue; null until the first queue after connecting
  this.alerter = new Alerter();
  this.$ = function (id) { return document.getElementById(id); };
}

Desk.prototype.start = function () {
  var self = this;
  this.$("sign-in").addEventListener("submit", function (e) {
    e.preventDefault();
    self.alerter.unlock();
    self.signIn(self.$("token").value.trim());
  });
  this.$("sign-in-account").addEventListener("submit", function (e) {
    e.preventDefault();
    self.alerter.unlock();
    self.logIn(self.$("email").value.trim(), self.$("password").value);
  });
  this.$("sign-out").addEventListener("click", function () { self.signOut(""); });
  this.twoStep = new TwoStep(this.$, function () { self.$("totp-start").hidden = true; if (!self.socket) self.signedIn(null, self.pendingMe); });
  this.$("totp-start").addEventListener("click", function () { self.twoStep.open(false); });
  this.$("refresh").addEventListener("click", function () { self.refreshOthers(); });
  document.addEventListener("click", function () { self.alerter.unlock(); }, { once: true });
  setInterval(tickWaits, 1000);
  setInterval(function () {
    if (self.socket && self.socket.connected) { self.refreshOthers(); showHolders(self); }
  }, REFRESH_MS);
  var saved = stored("sessionStorage", TOKEN_KEY);
  if (saved) this.signIn(saved);
  else this.resume();
};

/** An account's session from an earlier page (the cookie): signed in again without asking, if it still holds. */
Desk.prototype.resume = function () {
  var self = this;
  this.fetchJson("/console/me.json", null).then(function (me) { self.signedIn(null, me); }, function () {});
};

/** POST /auth/login; the server sets the session cookie, and the socket sends it on connecting. A role that must
 * use two-step sign-in and has not turned it on goes to the set-up first (its session can do nothing else). */
Desk.prototype.logIn = function (email, password) {
  var self = this;
  logIn(this.$, email, password).then(function (answer) {
    var me = { id: answer.user.id, name: answer.user.name, role: answer.user.role, totp: answer.user.totp };
    if (!answer.totp_setup_required) return self.signedIn(null, me);
    self.pendingMe = Object.assign(me, { totp: true });
    self.$("sign-in-view").hidden = true;
    self.twoStep.open(true);
  }, function () {});
};

// -- signing in ---------------------------------------------------------------

/** Check the token over HTTP (it also says who we are), then open the socket with it. */
Desk.prototype.signIn = function (token) {
  var self = this;
  if (!token) return;
  clearTimeout(this.retry);
  this.$("sign-in-error").textContent = "";
  this.fetchJson("/console/me.json", token).then(function (me) {
    stored("sessionStorage", TOKEN_KEY, token);
    self.signedIn(token, me);
  }, function (error) {
    if (error.status === 401) return self.signOut("That token is not valid");
    // The server is down or restarting: keep the token and try again.
    self.$("sign-in-error").textContent = "Cannot reach the server (" + error.message + "). Trying again…";
    self.retry = setTimeout(function () { self.signIn(token); }, 5000);
  });
};

Desk.prototype.signedIn = function (token, me) {
  var self = this;
  this.token = token;
  this.me = me;
  this.$("who").textContent = "Signed in as " + me.name;
  this.$("totp-start").hidden = Boolean(token) || me.totp !== false;
  this.connect();
  // Without them (signed out meanwhile, the server restarting) the console works on, with no canned replies.
  this.fetchJson("/console/canned.json", token).then(function (canned) { self.canned = canned; })
    .catch(function () { self.canned = []; });
};

/** GET with the token, or with no header at all when signed in with an account (the cookie goes by itself). */
Desk.prototype.fetchJson = function (path, token) {
  var headers = token ? { Authorization: "Bearer " + token } : {};
  return fetch(path, { headers: headers, cache: "no-store" }).then(function (response) {
    if (response.ok) return response.json();
    var error = new Error(response.statusText || "HTTP " + response.status);
    error.status = response.status;
    throw error;
  });
};

Desk.prototype.connect = function () {
  var self = this;
  var socket = io(location.origin + "/agent", { auth: this.token ? { token: this.token } : {},
    transports: ["websocket", "polling"],
    tryAllTransports: true, reconnectionDelayMax: 5000 });
  socket.on("connect", function () { self.connected(); });
  socket.on("connect_error", function (err) { self.refused(err); });
  socket.on("disconnect", function (reason) {
    if (reason === "io client disconnect") return;
    self.status("Connection lost. Reconnecting…");
    if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 3000);
  });
  socket.on("queue", function (list) { self.showQueue(list); });
  socket.on("message", function (m) { self.toTab(m.conversation_id, "add", m); });
  socket.on("state", function (s) { self.toTab(s.conversation_id, "applyState", s); });
  socket.on("typing", function (e) { if (e.sender === "visitor") self.toTab(e.conversation_id, "visitorTyping", e); });
  socket.on("suggestions", function (e) { self.toTab(e.conversation_id, "showSuggestions", e); });
  socket.on("lead", function (e) { self.toTab(e.conversation_id, "addLead", e.lead); });
  socket.on("offer", function (offer) { self.showOffer(offer); });
  socket.on("note", function (n) { self.toTab(n.conversation_id, "addNote", n); });
  socket.on("unwatched", function (e) {
    var tab = self.tabs[e.conversation_id];
    if (tab) self.warn(visitorLabel(tab.summary) + " was taken by another representative.");
    self.dismiss(e.conversation_id);
  });
  socket.on("transferred", function (e) {
    self.watch(e.conversation.id, true);  // follows it from now on (its messages, notes and state)
    self.alerter.alert(e.by.name + " transferred " + visitorLabel(e.conversation) + " to you" + (e.note ? ": " + e.note : ""));
  });
  socket.on("offer_withdrawn", function (e) { var node = self.$("offer-" + e.conversation_id); if (node) node.remove(); });
  this.socket = socket;
};

Desk.prototype.connected = function () {
  this.$("sign-in-view").hidden = true;
  this.$("desk").hidden = false;
  this.$("sign-out").hidden = false;
  this.status("Connected");
  this.queueIds = null;
  var self = this;
  // After a reconnect, follow every open tab again and catch up on what was missed.
  Object.keys(this.tabs).forEach(function (id) { self.watch(id, false); });
  this.refreshOthers();
};

Desk.prototype.refused = function (err) {
  var code = err.data && err.data.code;
  if (code === "unauthorized") return this.signOut(this.token ? "That token is not valid" : "Please sign in again");
  this.status(code ? err.message : "Cannot reach the server. Retrying…");
  var socket = this.socket;
  if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
};

Desk.prototype.signOut = function (why) {
  if (this.socket) this.socket.disconnect();
  if (this.me && !this.token) fetch("/auth/logout", { method: "POST", cache: "no-store" });
  this.socket = null;
  this.token = this.me = null;
  stored("sessionStorage", TOKEN_KEY, null);
  var self = this;
  Object.keys(this.tabs).forEach(function (id) { self.dismiss(id); });
  this.$("desk").hidden = true;
  this.$("sign-out").hidden = this.$("totp-start").hidden = this.$("enrol-view").hidden = true;
  this.$("sign-in-view").hidden = false;
  this.$("who").textContent = "";
  this.status("");
  this.$("sign-in-error").textContent = why;
  this.$("token").focus();
};

Desk.prototype.status = function (text) {
  this.$("connection").textContent = text;
};

Desk.prototype.warn = function (text) {
  var alert = this.$("alert");
  alert.textContent = text;
  alert.hidden = false;
  clearTimeout(this.warnTimer);
  this.warnTimer = setTimeout(function () { alert.hidden = true; }, 8000);
};

// -- the queue and the other open conversations --------------------------------

Desk.prototype.showQueue = function (list) {
  var self = this, before = this.queueIds;
  showHolders(this);
  this.queueIds = list.map(function (s) { return s.id; });
  this.$("queue").replaceChildren.apply(this.$("queue"), list.map(function (s) {
    return summaryCard(s, [["Watch", function () { self.watch(s.id, true); }], ["Take", function () { self.take(s.id); }, true]]);
  }));
  this.$("queue-empty").hidden = list.length > 0;
  this.$("queue-count").textContent = list.length ? "(" + list.length + ")" : "";
  document.title = (list.length ? "(" + list.length + ") " : "") + "Chat console";
  var arrived = before === null ? [] : list.filter(function (s) { return before.indexOf(s.id) < 0; });
  if (arrived.length) this.alerter.alert(visitorLabel(arrived[0]) + " is waiting (" + (REASONS[arrived[0].reason] || "") + ")");
};

/** Conversations with the bot or with a representative; mine open as tabs (after a reload, say). */
Desk.prototype.refreshOthers = function () {
  var self = this, found = [], pending = 2;
  ["bot", "agent"].forEach(function (state) {
    request(self.socket, "conversations", { state: state, limit: 50 }, function (err, ack) {
      if (!err && ack.ok) found = found.concat(ack.conversations);
      if (--pending === 0) self.showOthers(found);
    });
  });
};

Desk.prototype.showOthers = function (list) {
  var self = this;
  list.forEach(function (s) { if (s.agent && self.me && s.agent.id === self.me.id && !self.tabs[s.id]) self.watch(s.id, false); });
  var others = list.filter(function (s) { return !(s.agent && self.me && s.agent.id === self.me.id); });
  this.$("others").replaceChildren.apply(this.$("others"), others.map(function (s) {
    var buttons = [["Watch", function () { self.watch(s.id, true); }]];
    if (s.state === "bot") buttons.push(["Take over", function () { self.take(s.id); }]);
    return summaryCard(s, buttons);
  }));
  this.$("others-empty").hidden = others.length > 0;
};

Desk.prototype.showOffer = function (offer) {
  var self = this, s = offer.conversation;
  var card = summaryCard(s, [
    ["Accept", function () { card.remove(); self.claim("accept", s.id); }, true],
    ["Decline", function () { card.remove(); request(self.socket, "decline", { conversation_id: s.id }); }]]);
  card.id = "offer-" + s.id;
  card.classList.add("offer");
  card.insertBefore(el("p", { class: "meta", text: "Offered to you until " + clockTime(offer.expires_at) }), card.firstChild);
  this.$("offers").appendChild(card);
  this.alerter.alert(visitorLabel(s) + " is offered to you");
};

// -- conversations in tabs ----------------------------------------------------

Desk.prototype.take = function (id) {
  this.claim("take", id);
};

/** take or accept: on success the conversation opens in a tab; "taken" and the like are said plainly. */
Desk.prototype.claim = function (event, id) {
  var self = this;
  request(this.socket, event, { conversation_id: id }, function (err, ack) {
    if (err || !ack.ok) return self.warn(errorText(err, ack));
    self.open(ack.conversation).input.focus();
  });
};

Desk.prototype.watch = function (id, focus) {
  var self = this;
  request(this.socket, "watch", { conversation_id: id }, function (err, ack) {
    if (err || !ack.ok) return self.warn(errorText(err, ack));
    var tab = self.open(ack.conversation, !focus);
    if (focus) tab.button.focus();
  });
};

/** The tab for this conversation, created if needed, loaded with its history and (unless quiet) selected. */
Desk.prototype.open = function (conversation, quiet) {
  var tab = this.tabs[conversation.id];
  if (!tab) {
    tab = this.tabs[conversation.id] = new Tab(this, conversation);
    this.$("tabs").appendChild(tab.button);
    this.$("panels").appendChild(tab.panel);
  }
  tab.load(conversation);
  if (!quiet || Object.keys(this.tabs).length === 1) this.select(conversation.id);
  return tab;
};

Desk.prototype.select = function (id) {
  var tabs = this.tabs;
  Object.keys(tabs).forEach(function (other) { tabs[other].select(other === id); });
  this.$("no-tabs").hidden = true;
};

Desk.prototype.dismiss = function (id) {
  var tab = this.tabs[id];
  if (!tab) return;
  if (this.socket && this.socket.connected) this.socket.emit("unwatch", { conversation_id: id });
  tab.button.remove();
  tab.panel.remove();
  delete this.tabs[id];
  var rest = Object.keys(this.tabs);
  if (rest.length) this.select(rest[0]);
  else this.$("no-tabs").hidden = false;
};

Desk.prototype.toTab = function (id, method, data) {
  var tab = this.tabs[id];
  if (tab) tab[method](data);
};

new Desk().start();
