/* Helpers shared by the widget and the console: an ES module, bundled into each (ES2017) by esbuild. No framework.
 * Everything a visitor or a representative typed is put on the page with
 * textContent (el() never parses HTML), so a message can never become markup. */

/** An element with attributes, event handlers ("on" + name) and children (strings become text nodes). */
export function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (name) {
    var value = attrs[name];
    if (value === null || value === undefined || value === false) return;
    if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  });
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) return;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

/** A random id for a message's client_id (crypto.randomUUID needs a secure context; this does not). */
export function newId() {
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}

/** "14:05" in the reader's locale, from an ISO-8601 string. */
export function clockTime(iso, lang) {
  var date = new Date(iso);
  if (isNaN(date.getTime())) return "";
  return date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
}

/** Read or write "localStorage" or "sessionStorage"; where the browser blocks storage (a sandboxed
 * iframe, third-party storage turned off) even naming it throws, so the lookup is inside the try. */
export function stored(area, key, value) {
  try {
    var storage = window[area];
    if (value === undefined) return storage.getItem(key);
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    return null;
  }
  return value;
}

/** Emit with an ack and a deadline; the callback gets (error, ack) where error is set on timeout. */
export function request(socket, event, body, callback, timeoutMs) {
  socket.timeout(timeoutMs || 10000).emit(event, body, callback || function () {});
}

/** Acks that failed for a reason worth retrying with the same client_id. */
export function retriable(ack) {
  return !ack || (ack.error && (ack.error.code === "unavailable" || ack.error.code === "rate_limited"));
}
