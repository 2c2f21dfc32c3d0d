/* The admin dashboard at /admin: an admin's account (email, password, two-step code; the session lives in an
 * HttpOnly cookie this script never sees) or the admin token (kept in sessionStorage, sent as Authorization: Bearer),
 * then draws GET /admin/activity for a range of days, lists the unanswered groups with their draft intents, and
 * searches and exports transcripts. */

import { el, stored } from "./common.js";
import { logIn } from "./console-account.js";
import { chartCard, download } from "./dashboard-charts.js";

var TOKEN_KEY = "clinic-admin-token";
var $ = function (id) { return document.getElementById(id); };

function Board() {
  this.token = null;
  this.cards = [];
  this.loggedOut = Promise.resolve(); // a sign-in waits for the last sign-out, whose answer clears the cookie
}

Board.prototype.start = function () {
  var self = this;
  $("sign-in").addEventListener("submit", function (e) { e.preventDefault(); self.signIn($("token").value.trim()); });
  $("sign-in-account").addEventListener("submit", function (e) {
    e.preventDefault();
    var email = $("email").value.trim(), password = $("password").value;
    self.loggedOut.then(function () { return logIn($, email, password); }).then(function (answer) {
      self.signIn(null, answer.user.role);
    }, function () {});
  });
  $("sign-out").addEventListener("click", function () { self.signOut(""); });
  $("range").addEventListener("submit", function (e) { e.preventDefault(); self.load(); });
  $("search").addEventListener("submit", function (e) { e.preventDefault(); self.search(); });
  $("try").addEventListener("submit", function (e) { e.preventDefault(); self.tryText(); });
  $("trade-off-details").addEventListener("toggle", function () { if (this.open) self.tradeOff(); });
  var to = new Date().toISOString().slice(0, 10);
  $("to").value = to;
  $("from").value = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
  var saved = stored("sessionStorage", TOKEN_KEY);
  if (saved) this.signIn(saved);
  else this.resume();
};

/** An account's session from an earlier sign-in (the cookie), if it still holds: asked of /console/me.json, which
 * counts no failed sign-in when there is none. */
Board.prototype.resume = function () {
  var self = this;
  fetch("/console/me.json", { cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (me) {
    if (!me) return;
    if (me.role === "admin" || me.role === "supervisor") self.signIn(null, me.role);
    else $("sign-in-error").textContent = "The dashboard is for admins and supervisors; your role is " + me.role + ".";
  }, function () {});
};

/** GET an admin path with the token; resolves with the JSON (or text), rejects with {status, message}. */
Board.prototype.get = function (path, asText) {
  var headers = this.token ? { Authorization: "Bearer " + this.token } : {};
  return fetch(path, { headers: headers, cache: "no-store" }).then(function (r) {
    if (r.ok) return asText ? r.text() : r.json();
    return r.json().then(function (body) { throw { status: r.status, message: body.error.message }; },
      function () { throw { status: r.status, message: r.statusText || "HTTP " + r.status }; });
  });
};

/** With a token, or with none: then the session cookie of an account is what signs the requests in. A supervisor
 * sees the figures only: the server keeps the intents and the transcripts to admins. */
Board.prototype.signIn = function (token, role) {
  this.token = token || null;
  this.account = !token;
  this.role = token ? "admin" : role;
  var self = this;
  this.load().then(function (ok) {
    if (!ok) return;
    if (token) stored("sessionStorage", TOKEN_KEY, token);
    $("sign-in-view").hidden = true;
    $("board").hidden = false;
    $("sign-out").hidden = false;
    $("from").focus();
    var admin = self.role === "admin";
    $("intents-card").hidden = $("transcripts-card").hidden = !admin;
    if (admin) self.intents();
  });
};

Board.prototype.signOut = function (why) {
  if (this.account && why === "") {
    this.loggedOut = fetch("/auth/logout", { method: "POST", cache: "no-store" }).then(function () {}, function () {});
  }
  this.account = false;
  this.forget();
  stored("sessionStorage", TOKEN_KEY, null);
  this.token = null;
  $("board").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in-view").hidden = false;
  $("sign-in-error").textContent = why;
  $("token").value = "";
  $("token").focus();
};

/** Take the last account's figures off the page, so that the next one to sign in never sees them. */
Board.prototype.forget = function () {
  this.cards.forEach(function (card) { card.destroy(); });
  this.cards = [];
  if (this.tradeOffCard) this.tradeOffCard.destroy();
  this.tradeOffCard = null;
  this.tradeOffAsked = false;
  ["charts", "summary", "unanswered", "unanswered-summary", "trade-off", "trade-off-status", "try-result",
    "search-summary"].forEach(function (id) { $(id).replaceChildren(); });
  $("results").querySelector("tbody").replaceChildren();
  $("results").hidden = true;
};

/** Fetch and draw the figures for the chosen days; resolves true when they were drawn. */
Board.prototype.load = function () {
  var self = this, query = "?from=" + encodeURIComponent($("from").value) + "&to=" + encodeURIComponent($("to").value);
  $("status").textContent = "Loading…";
  return this.get("/admin/activity" + query).then(function (figures) {
    $("range-error").textContent = "";
    self.draw(figures);
    $("status").textContent = "Showing " + figures.from + " to " + figures.to;
    return true;
  }, function (error) {
    $("status").textContent = "";
    if (error.status === 401) self.signOut(self.account ? "Please sign in again" : "That token is not valid");
    else if (error.status === 403) self.signOut(error.message);
    else $("range-error").textContent = error.message;
    return false;
  });
};

function minutes(seconds) {
  return seconds === null ? null : Math.round(seconds / 6) / 10;
}

function percent(share) {
  return Math.round(share * 1000) / 10 + " %";
}

/** Every chart's spec from the figures: title, what it shows in a sentence, the series and the table rows. */
function specs(f) {
  var days = f.per_day.map(function (d) { return d.day; });
  var wait = function (id, title, figures, what) {
    return { id: id, title: title, kind: "line", labels: days, unit: "minutes",
      describe: !figures.count ? what + ": none in these days." : what + ": median " + minutes(figures.p50) +
        " min, 90th percentile " + minutes(figures.p90) + " min over " + figures.count + " conversations.",
      series: [{ label: "p50", values: figures.per_day.map(function (d) { return minutes(d.p50); }) },
        { label: "p90", values: figures.per_day.map(function (d) { return minutes(d.p90); }) }],
      header: ["Day", "Count", "p50 (min)", "p90 (min)"],
      rows: figures.per_day.map(function (d) { return [d.day, d.count, minutes(d.p50), minutes(d.p90)]; }) };
  };
  var busiest = f.busiest_hours.slice().sort(function (a, b) { return b.conversations - a.conversations; })[0];
  return [
    { id: "per-day", title: "Conversations per day", kind: "bar", labels: days,
      describe: f.conversations + " conversations from " + f.from + " to " + f.to + ".",
      series: [{ label: "Conversations", values: f.per_day.map(function (d) { return d.conversations; }) }],
      header: ["Day", "Conversations"], rows: f.per_day.map(function (d) { return [d.day, d.conversations]; }) },
    { id: "endings", title: "Where conversations ended", kind: "bar", horizontal: true, unit: "% of conversations",
      labels: f.endings.map(function (e) { return e.label; }),
      describe: f.endings.map(function (e) { return e.label + " " + percent(e.share); }).join(", ") + ".",
      series: [{ label: "Share", values: f.endings.map(function (e) { return Math.round(e.share * 1000) / 10; }) }],
      header: ["Ending", "Conversations", "Share"],
      rows: f.endings.map(function (e) { return [e.label, e.count, percent(e.share)]; }) },
    wait("queue-wait", "Queue wait", f.queue_wait, "From queued to taken"),
    wait("first-reply", "Time to first human reply", f.first_reply, "From queued to a representative's first message"),
    { id: "csat", title: "Visitor ratings (CSAT)", kind: "line", labels: days, unit: "average, 1 to 5",
      describe: f.csat.count + " ratings, average " + (f.csat.average === null ? "none" : f.csat.average) + " of 5. " +
        f.csat.by_representative.map(function (r) { return r.representative + " " + r.average + " (" + r.count + ")"; }).join(", "),
      series: [{ label: "Average", values: f.csat.per_day.map(function (d) { return d.average; }) }],
      header: ["Day or representative", "Ratings", "Average"],
      rows: f.csat.per_day.map(function (d) { return [d.day, d.count, d.average]; }).concat(
        f.csat.by_representative.map(function (r) { return [r.representative, r.count, r.average]; })) },
    { id: "busiest-hours", title: "Busiest hours (UTC)", kind: "bar", unit: "conversations started",
      labels: f.busiest_hours.map(function (h) { return String(h.hour).padStart(2, "0") + ":00"; }),
      describe: busiest && busiest.conversations ? "The busiest hour starts at " + busiest.hour + ":00 UTC with " +
        busiest.conversations + " conversations." : "No conversations.",
      series: [{ label: "Conversations", values: f.busiest_hours.map(function (h) { return h.conversations; }) }],
      header: ["Hour (UTC)", "Conversations"],
      rows: f.busiest_hours.map(function (h) { return [String(h.hour).padStart(2, "0") + ":00", h.conversations]; }) }
  ];
}

Board.prototype.draw = function (f) {
  this.cards.forEach(function (card) { card.destroy(); });
  var range = f.from + "-to-" + f.to;
  this.cards = specs(f).map(function (spec) { return chartCard(spec, spec.id + "-" + range + ".csv"); });
  $("charts").replaceChildren.apply($("charts"), this.cards.map(function (card) { return card.node; }));
  this.cards.forEach(function (card) { card.draw(); });
  $("summary").textContent = f.conversations + " conversations from " + f.from + " to " + f.to + " (UTC days)";
  this.unanswered(f.unanswered);
};

Board.prototype.unanswered = function (report) {
  $("unanswered-summary").textContent = report.messages + " messages the bot could not answer" +
    (report.groups.length ? "; the largest groups:" : ".");
  $("unanswered").replaceChildren.apply($("unanswered"), report.groups.map(function (g) {
    return el("li", {}, [
      el("strong", { text: g.count + " × (" + g.lang + ") " }), el("span", { text: g.examples[0] }),
      g.examples.length > 1 ? el("p", { class: "examples", text: "Also: " + g.examples.slice(1, 4).join(" · ") }) : null,
      el("details", {}, [
        el("summary", { text: "Draft an intent" }),
        el("pre", { text: g.draft.yaml }),
        el("button", { type: "button", text: "Download " + g.draft.id + ".yaml",
          onclick: function () { download(g.draft.id + ".yaml", "text/yaml;charset=utf-8", g.draft.yaml); } })
      ])
    ]);
  }));
};

/** The intents the server runs now, in a table. */
Board.prototype.intents = function () {
  this.get("/admin/intents").then(function (found) {
    $("intents-summary").textContent = "The " + found.intents.length + " intents (threshold " + found.threshold.toFixed(2) + ")";
    var body = $("intents").querySelector("tbody");
    body.replaceChildren.apply(body, found.intents.map(function (i) {
      return el("tr", {}, [el("th", { scope: "row", text: i.id }), el("td", { text: i.file.split("/").pop() }),
        el("td", { text: i.action || "answers" }), el("td", { class: "number", text: String(i.examples.en || 0) }),
        el("td", { class: "number", text: String(i.examples.es || 0) })]);
    }));
  }, function (error) { $("try-error").textContent = error.message; });
};

/** The threshold trade-off of the running intents, asked for when its section is opened (it costs the server
 * seconds of CPU) and drawn once the server has worked it out: 202 while it holds out every example in a child
 * process, then 200 with the curve. */
Board.prototype.tradeOff = function (again) {
  var self = this;
  if (this.tradeOffCard || (this.tradeOffAsked && !again)) return;
  this.tradeOffAsked = true;
  $("trade-off-status").textContent = "Working out the threshold trade-off: every example is held out…";
  this.get("/admin/intents/trade-off").then(function (t) {
    if (t.state === "working") {
      setTimeout(function () { if (self.token) self.tradeOff(true); }, 2000);
      return;
    }
    var at = function (p) {
      return percent(p.answered) + " of answerable examples answered, " +
        (p.accuracy === null ? "none" : percent(p.accuracy)) + " of those right, " +
        percent(p.handed_off) + " of out-of-scope examples handed off";
    };
    var shown = t.curve.filter(function (p, i) { return i % 5 === 0; });
    self.tradeOffCard = chartCard({
      id: "trade-off", title: "Threshold trade-off", kind: "line", unit: "% of examples",
      labels: t.curve.map(function (p) { return p.threshold.toFixed(2); }),
      describe: "At the current threshold " + t.current.toFixed(2) + ": " + at(t.at_current) +
        ". At the recommended " + t.recommended.toFixed(2) + ": " + at(t.at_recommended) + ". Over " + t.examples +
        " answerable and " + t.out_of_scope + " out-of-scope examples, each held out.",
      series: [
        { label: "Answered", values: t.curve.map(function (p) { return Math.round(p.answered * 1000) / 10; }) },
        { label: "Accuracy of answers", values: t.curve.map(function (p) {
          return p.accuracy === null ? null : Math.round(p.accuracy * 1000) / 10; }) },
        { label: "Out of scope handed off", values: t.curve.map(function (p) { return Math.round(p.handed_off * 1000) / 10; }) }
      ],
      header: ["Threshold", "Answered", "Accuracy", "Out of scope handed off"],
      rows: shown.concat([t.at_current, t.at_recommended]).map(function (p) {
        return [p.threshold.toFixed(2), percent(p.answered), p.accuracy === null ? null : percent(p.accuracy),
          percent(p.handed_off)];
      })
    }, "threshold-trade-off.csv");
    $("trade-off").replaceChildren(self.tradeOffCard.node);
    self.tradeOffCard.draw();
    $("trade-off-status").textContent = "Current threshold " + t.current.toFixed(2) + ", recommended " +
      t.recommended.toFixed(2) + " (the best accuracy on traffic with 20 % out-of-scope messages, as chatbot eval chooses it).";
  }, function (error) {
    self.tradeOffAsked = false;
    $("trade-off-status").textContent = error.message;
  });
};

/** What the running bot would do with the message typed: its choice or handoff, and the ranked intents. */
Board.prototype.tryText = function () {
  var query = new URLSearchParams({ text: $("try-text").value, lang: $("try-lang").value });
  this.get("/admin/intents/try?" + query).then(function (r) {
    $("try-error").textContent = "";
    var decision = r.handoff_reason
      ? "Hands off (" + r.handoff_reason.replace(/_/g, " ") + ")" + (r.intent ? " after picking " + r.intent : "")
      : "Answers with " + r.intent + " (" + Math.round(r.confidence * 100) + " % ≥ threshold " + Math.round(r.threshold * 100) + " %)";
    $("try-result").replaceChildren(
      el("p", {}, [el("strong", { text: decision + ": " }), r.answer]),
      el("ol", {}, r.candidates.map(function (c) { return el("li", { text: c.intent + " " + Math.round(c.confidence * 100) + " %" }); })));
  }, function (error) { $("try-error").textContent = error.message; });
};

Board.prototype.search = function () {
  var self = this, params = new URLSearchParams({ limit: "50", from: $("from").value, to: $("to").value + "T23:59:59.999999" });
  if ($("q").value.trim()) params.set("q", $("q").value.trim());
  if ($("state").value) params.set("state", $("state").value);
  this.get("/admin/conversations?" + params).then(function (page) {
    $("search-error").textContent = "";
    $("search-summary").textContent = page.total + " conversations found" + (page.total > 50 ? "; the newest 50:" : ".");
    var body = $("results").querySelector("tbody");
    body.replaceChildren.apply(body, page.conversations.map(function (c) { return self.row(c); }));
    $("results").hidden = !page.conversations.length;
  }, function (error) { $("search-error").textContent = error.message; });
};

Board.prototype.row = function (c) {
  var self = this, who = c.name || (c.contact && c.contact.name) || "Visitor " + c.id.slice(0, 6);
  var save = function (format) {
    return function () {
      self.get("/admin/conversations/" + c.id + "?format=" + format, true).then(function (text) {
        download("conversation-" + c.id + "." + format, format === "txt" ? "text/plain" : "application/json", text);
      }, function (error) { $("search-error").textContent = error.message; });
    };
  };
  return el("tr", {}, [
    el("td", { text: c.created_at.slice(0, 16).replace("T", " ") }), el("th", { scope: "row", text: who }),
    el("td", { text: c.state }), el("td", { class: "number", text: String(c.message_count) }),
    el("td", { text: c.rating === null ? "–" : String(c.rating) }),
    el("td", {}, [
      el("button", { type: "button", text: "Text", "aria-label": "Transcript of " + who + " as text", onclick: save("txt") }), " ",
      el("button", { type: "button", text: "JSON", "aria-label": "Transcript of " + who + " as JSON", onclick: save("json") })
    ])
  ]);
};

new Board().start();
