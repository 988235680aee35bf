// The dev console: a frontend of the service, as a Clerk app would be. It
// gets a session token (from dev mode's token endpoint, where a real app
// gets it from Clerk's SDK), calls the API with it as a Bearer token, and
// once through the __session cookie, and follows the push loop's activity.
// Everything the server sends is shown with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let token = "";

// api calls the service as a browser app does. With bearer, the token goes
// in Authorization and no cookie is sent; with cookie, the token goes in
// the __session cookie (set by script, as Clerk's SDK does) and the browser
// adds the Origin header by itself.
async function api(method, path, { bearer, cookie, body } = {}) {
  const init = { method, headers: {}, credentials: "omit" };
  if (bearer !== undefined) init.headers["Authorization"] = "Bearer " + bearer;
  if (cookie) {
    document.cookie = "__session=" + cookie + "; path=/; SameSite=Strict";
    init.credentials = "same-origin";
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: r.status, json, text, auth: r.headers.get("WWW-Authenticate") || "" };
}

async function getToken() {
  const r = await api("POST", "/dev/token");
  if (r.status !== 200 || !r.json || !r.json.token) {
    $("token-state").textContent = "no token: " + r.status + " " + r.text;
    $("token-state").className = "bad";
    return false;
  }
  token = r.json.token;
  const exp = new Date(r.json.expiresAt).toLocaleTimeString();
  $("token-state").textContent = "signed in as " + r.json.subject + " (azp " + r.json.azp + "), token valid until " + exp;
  return true;
}

async function whoami() {
  const r = await api("GET", "/whoami", { bearer: token });
  $("whoami").textContent = r.status + "\n" + (r.json ? JSON.stringify(r.json, null, 2) : r.text);
}

function show(el, r, what) {
  const ok = r.status >= 200 && r.status < 300;
  let text = what + " → " + r.status;
  if (r.json && r.json.messageId) text += " messageId " + r.json.messageId;
  if (r.json && r.json.error) text += " " + JSON.stringify(r.json.error);
  if (r.auth) text += "  (WWW-Authenticate: " + r.auth + ")";
  el.textContent = text;
  el.className = "result " + (ok ? "ok" : "bad");
}

async function publish(viaCookie) {
  const data = $("publish-data").value;
  const body = { data, attributes: { from: viaCookie ? "dev console, cookie" : "dev console, bearer" } };
  const r = viaCookie
    ? await api("POST", "/api/events", { cookie: token, body })
    : await api("POST", "/api/events", { bearer: token, body });
  $("publish-how").textContent = viaCookie
    ? "POST /api/events with the __session cookie and Origin " + location.origin + " (a listed authorized party, as is the token's azp)"
    : "POST /api/events with Authorization: Bearer <token>";
  show($("publish-result"), r, viaCookie ? "POST /api/events (cookie)" : "POST /api/events (Bearer)");
}

async function refuse(kind) {
  // A token whose signature was tampered with, or none at all.
  const bad = token.slice(0, token.lastIndexOf(".") + 1) + "c2lnbmF0dXJlLW9mLXNvbWVvbmUtZWxzZQ";
  const r = kind === "bad" ? await api("GET", "/whoami", { bearer: bad }) : await api("GET", "/whoami");
  show($("refuse-result"), r, kind === "bad" ? "GET /whoami (bad token)" : "GET /whoami (no token)");
}

// fill replaces the rows of table id with one row per item; cells gives
// each row's cell texts (and an optional class per cell).
function fill(id, items, cells) {
  const body = $(id).tBodies[0];
  const seen = new Set([...body.rows].map((tr) => tr.dataset.key));
  body.replaceChildren(...items.map((item, i) => {
    const tr = document.createElement("tr");
    const { key, values, classes = [] } = cells(item, i);
    tr.dataset.key = key;
    if (seen.size && !seen.has(key)) tr.className = "fresh";
    values.forEach((v, j) => {
      const td = document.createElement("td");
      td.textContent = v === undefined || v === null ? "" : String(v);
      if (classes[j]) td.className = classes[j];
      tr.appendChild(td);
    });
    return tr;
  }));
}

const time = (t) => (t ? new Date(t).toLocaleTimeString() : "");
const ms = (ns) => (ns ? (ns / 1e6).toFixed(1) + " ms" : "");

async function loadEvents() {
  if (!token) return;
  const r = await api("GET", "/api/events", { bearer: token });
  if (r.status !== 200 || !r.json) return;
  fill("events", r.json.events, (e) => ({
    key: e.id,
    values: [time(e.receivedAt), e.id, e.source + (e.job ? " " + e.job : ""), e.data, e.attributes ? JSON.stringify(e.attributes) : ""],
  }));
}

function showActivity(a) {
  fill("deliveries", a.deliveries, (d) => ({
    key: d.messageId + "/" + d.attempt,
    values: [time(d.at), d.messageId, d.attempt, d.result + (d.backoffNs ? " in " + ms(d.backoffNs) : ""),
      d.status || "", d.reason || d.error || "", ms(d.tookNs)],
    classes: ["", "", "", d.result === "acked" ? "ok" : d.result === "retry" ? "warn" : "bad"],
  }));
  fill("refusals", a.refusals, (r) => {
    const f = r.fields || {};
    return {
      key: r.at + f.path + f.reason,
      values: [time(r.at), (f.method || "") + " " + (f.path || ""), f.status, f.reason, f.rule, f.expected, f.found,
        f.source || (r.message.startsWith("devconsole") ? "dev console: host " + f.host + ", origin " + (f.origin || "none") : "")],
      classes: ["", "", "bad"],
    };
  });
  const s = a.pushLoop;
  $("push-stats").textContent = s
    ? "delivered " + s.Delivered + ", acknowledged " + s.Acked + ", handed back " + s.Nacked +
      ", dead-lettered " + s.DeadLettered + ", in flight " + s.InFlight
    : "not running";
}

function follow() {
  const es = new EventSource("/dev/activity/stream");
  es.onopen = () => { $("stream-state").textContent = "following the activity stream (/dev/activity/stream)"; };
  es.onerror = () => { $("stream-state").textContent = "activity stream lost; reconnecting…"; };
  es.onmessage = (m) => {
    showActivity(JSON.parse(m.data));
    loadEvents();
  };
}

async function main() {
  $("publish-form").addEventListener("submit", (e) => { e.preventDefault(); publish(false); });
  $("publish-cookie").addEventListener("click", () => publish(true));
  $("bad-token").addEventListener("click", () => refuse("bad"));
  $("no-token").addEventListener("click", () => refuse("none"));
  if (await getToken()) {
    await whoami();
    await loadEvents();
    setInterval(getToken, 50 * 60 * 1000); // tokens live an hour
  }
  follow();
  document.body.dataset.ready = "true";
}

main();
