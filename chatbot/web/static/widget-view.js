/* The widget's DOM: built once inside a shadow root, so the host page's styles and ours never meet.
 * Only this file creates nodes; widget.js decides what they show. */

import STYLES from "./widget.css";
import { clockTime, el } from "./common.js";

/** The shadow host and every node the widget talks to, wired to the widget's methods. */
export function buildView(widget, t) {
  var host = el("div", { "data-clinic-chat": "" });
  var root = host.attachShadow({ mode: "open" });
  adoptStyles(root, STYLES);
  var v = { host: host, root: root };
  v.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
  v.launcher = el("button", {
    class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "chat-panel",
    "aria-label": t.open, onclick: function () { widget.open(true); }
  }, [el("span", { class: "bubble", "aria-hidden": "true" }), el("span", { text: t.open }), v.badge]);
  v.subtitle = el("p", { class: "subtitle", id: "chat-subtitle", text: t.withBot });
  v.end = el("button", { class: "end", type: "button", text: t.end,
    onclick: function () { widget.end(); } });
  v.minimize = el("button", { class: "minimize", type: "button", "aria-label": t.minimize, text: "×",
    onclick: function () { widget.minimize(); } });
  v.notice = el("p", { class: "notice", role: "status", hidden: true });
  v.welcome = el("li", { class: "welcome", text: t.welcome });
  // The log role (a live region: screen readers read out each message added) wraps the list, so the messages
  // stay list items of a list; a list with the log role would have none (axe: listitem).
  v.log = el("ol", { class: "messages" }, [v.welcome]);
  v.history = el("div", { class: "log", role: "log", "aria-label": t.log, tabindex: "0" }, [v.log]);
  v.typing = el("p", { class: "typing", "aria-live": "polite", hidden: true });
  v.chips = el("div", { class: "chips", role: "group", "aria-label": t.suggested, hidden: true });
  v.offer = el("button", { class: "link", type: "button", text: t.leaveContact, hidden: true,
    onclick: function () { widget.showContactForm(); } });
  v.contact = contactForm(widget, t, v);
  v.lead = el("div", { class: "lead" });  // a form the bot offered, or the pre-chat form (leadForm)
  v.rating = ratingForm(widget, t, v);
  v.rated = el("p", { class: "rated", role: "status" });
  v.closed = el("div", { class: "closed", hidden: true }, [
    el("p", { text: t.closed }), v.rating, v.rated,
    v.startNew = el("button", { class: "primary", type: "button", text: t.startNew, onclick: function () { widget.startNew(); } })
  ]);
  v.composer = composer(widget, t, v);
  v.panel = el("section", {
    class: "panel", id: "chat-panel", role: "dialog", "aria-labelledby": "chat-title",
    "aria-describedby": "chat-subtitle", hidden: true,
    onkeydown: function (event) { if (event.key === "Escape") widget.minimize(); }
  }, [
    el("header", {}, [el("div", { class: "heading" }, [el("h2", { id: "chat-title", text: t.title }), v.subtitle]),
      v.end, v.minimize]),
    v.notice, v.offer, v.history, v.typing, v.chips, v.lead, v.contact, v.closed, v.composer
  ]);
  root.appendChild(v.launcher);
  root.appendChild(v.panel);
  return v;
}

/** Constructable stylesheets where supported (no inline <style>, so strict CSPs stay happy); a <style> otherwise. */
function adoptStyles(root, css) {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: css }));
  }
}

function composer(widget, t, v) {
  v.input = el("textarea", {
    id: "chat-input", rows: "1", maxlength: "2000", placeholder: t.placeholder, autocomplete: "off",
    oninput: function () { widget.typed(); },
    onkeydown: function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        widget.submit();
      }
    }
  });
  return el("form", { class: "composer", onsubmit: function (event) { event.preventDefault(); widget.submit(); } }, [
    el("label", { class: "sr-only", for: "chat-input", text: t.inputLabel }),
    v.input,
    el("button", { class: "send primary", type: "submit", text: t.send })
  ]);
}

/** After a conversation a representative took part in: a score from 1 to 5 and an optional comment. */
function ratingForm(widget, t, v) {
  v.rateLegend = el("legend");
  v.scores = t.scores.map(function (label, i) {
    var id = "score-" + (i + 1);
    return el("span", { class: "score" }, [
      el("input", { type: "radio", name: "score", id: id, value: String(i + 1), required: i === 0 }),
      el("label", { for: id, text: label })
    ]);
  });
  v.rateComment = el("textarea", { id: "rating-comment", rows: "2", maxlength: "1000" });
  v.rateError = el("p", { class: "error", role: "alert" });
  return el("form", { class: "rating", hidden: true, onsubmit: function (event) { event.preventDefault(); widget.rate(); } }, [
    el("fieldset", {}, [v.rateLegend, el("div", { class: "scores" }, v.scores)]),
    el("label", { for: "rating-comment", text: t.comment }), v.rateComment,
    v.rateError,
    el("button", { class: "primary", type: "submit", text: t.sendRating })
  ]);
}

function contactForm(widget, t, v) {
  function field(name, type, label, autocomplete) {
    v["contact_" + name] = el("input", { id: "contact-" + name, name: name, type: type, autocomplete: autocomplete,
      maxlength: name === "name" ? "100" : "254", required: name === "name" });
    return el("label", { for: "contact-" + name }, [el("span", { text: label }), v["contact_" + name]]);
  }
  v.contactError = el("p", { class: "error", role: "alert" });
  return el("form", { class: "contact", hidden: true, "aria-label": t.leaveContact,
    onsubmit: function (event) { event.preventDefault(); widget.sendContact(); } }, [
    field("name", "text", t.name, "name"),
    field("email", "email", t.email, "email"),
    field("phone", "tel", t.phone, "tel"),
    el("p", { class: "hint", text: t.contactHint }),
    v.contactError,
    el("div", { class: "actions" }, [
      el("button", { class: "primary", type: "submit", text: t.sendContact }),
      el("button", { type: "button", text: t.cancel, onclick: function () { widget.hideContactForm(); } })
    ])
  ]);
}

/** A form from the server (forms/*.yaml): every field labelled, its error tied to it with aria-describedby and
 * announced through the alert above the fields; returns {node, inputs, errors, summary, first}. */
export function leadForm(form, t, onSubmit, onCancel) {
  var parts = { inputs: {}, errors: {} };
  function errorNode(name) {
    parts.errors[name] = el("p", { class: "field-error", id: "lead-" + name + "-error" });
    return parts.errors[name];
  }
  function control(field) {
    var id = "lead-" + field.name;
    var common = { id: id, name: field.name, "aria-describedby": id + "-error" };
    if (field.required) common["aria-required"] = "true";
    if (field.type === "choice") {
      var options = [el("option", { value: "", text: t.choose })].concat(field.options.map(function (o) {
        return el("option", { value: o.value, text: o.label });
      }));
      return el("select", common, options);
    }
    if (field.type === "checkbox") return el("input", Object.assign(common, { type: "checkbox" }));
    var types = { text: "text", email: "email", phone: "tel", date: "date" };
    var auto = { name: "name", email: "email", phone: "tel" };
    return el("input", Object.assign(common, { type: types[field.type], maxlength: field.max_length || null,
      autocomplete: auto[field.name] || auto[field.type] || "off" }));
  }
  var rows = form.fields.map(function (field) {
    var input = parts.inputs[field.name] = control(field);
    var label = el("label", { for: input.id }, [field.label, field.required ? " " + t.required : null]);
    var row = field.type === "checkbox" ? [input, label] : [label, input];
    return el("div", { class: "field field-" + field.type }, row.concat([errorNode(field.name)]));
  });
  parts.inputs.consent = el("input", { id: "lead-consent", type: "checkbox", name: "consent", "aria-required": "true",
    "aria-describedby": "lead-consent-error" });
  parts.summary = el("p", { class: "error", role: "alert" });
  parts.node = el("form", { class: "lead-form", "aria-labelledby": "lead-title", novalidate: true,
    onsubmit: function (event) { event.preventDefault(); onSubmit(); } }, [
    el("h3", { id: "lead-title", text: form.title }),
    parts.summary
  ].concat(rows, [
    el("div", { class: "field field-checkbox consent" }, [parts.inputs.consent,
      el("label", { for: "lead-consent", text: form.consent }), errorNode("consent")]),
    el("div", { class: "actions" }, [
      el("button", { class: "primary", type: "submit", text: t.sendForm }),
      onCancel ? el("button", { type: "button", text: t.cancel, onclick: onCancel }) : null
    ])
  ]));
  parts.first = parts.inputs[form.fields[0].name];
  return parts;
}

/** One message as a list item: who said it, the text (as text, never HTML) and the time. */
export function messageNode(message, t, lang) {
  var who = { visitor: t.you, bot: t.bot, agent: (message.agent && message.agent.name) || t.agent }[message.sender];
  return el("li", { class: "msg msg-" + message.sender, "data-id": message.id }, [
    who ? el("span", { class: "who", text: who }) : null,
    el("p", { class: "text", text: message.text }),
    message.created_at ? el("time", { datetime: message.created_at, text: clockTime(message.created_at, lang) }) : null
  ]);
}

/** The visitor's message while it waits for the server's ack. */
export function pendingNode(text, t) {
  return el("li", { class: "msg msg-visitor pending" }, [
    el("span", { class: "who", text: t.you }),
    el("p", { class: "text", text: text }),
    el("span", { class: "status", text: t.sending })
  ]);
}

/** Make the emergency advice stand out, for eyes and for screen readers. */
export function markUrgent(node, t) {
  if (!node || node.classList.contains("urgent")) return;
  node.classList.add("urgent");
  node.insertBefore(el("strong", { class: "flag", text: "⚠ " + t.urgent }), node.firstChild);
}
