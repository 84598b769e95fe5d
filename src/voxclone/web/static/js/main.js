// Playground entry point: sign-in, account balance, and wiring of the cards.

import { AgentPanel } from "./agent.js";
import { Api } from "./api.js";
import { ClonePanel } from "./clones.js";
import { SpeakPanel } from "./tts.js";
import { $, announce, describeError } from "./ui.js";

const KEY_STORAGE = "voxclone.apiKey";

function getKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

function setKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage disabled: the key lives only in memory for this page view
  }
  memoryKey = key;
}

let memoryKey = getKey();
const api = new Api(() => memoryKey);

function formatCredits(value) {
  if (value === undefined || value === null) return "–";
  // Decimal strings are shown as sent (no float rounding surprises).
  return typeof value === "string" ? value : String(value);
}

async function refreshAccount() {
  try {
    const body = await api.account();
    const a = (body && body.data) || body || {};
    $("balance").textContent = formatCredits(a.balance);
    $("balance").dataset.value = String(a.balance ?? "");
    const usage = a.usage || {};
    const parts = [];
    if (usage.clones_held !== undefined) parts.push(`${usage.clones_held} clone${usage.clones_held === 1 ? "" : "s"}`);
    if (usage.seconds_generated !== undefined) parts.push(`${Number(usage.seconds_generated).toFixed(1)} s generated`);
    $("usage").textContent = parts.length ? `(${parts.join(", ")})` : "";
    return a;
  } catch (e) {
    if (e.status === 401) signOut(describeError(e));
    throw e;
  }
}

const speak = new SpeakPanel(api, { onCharged: () => refreshAccount().catch(() => {}) });
const agent = new AgentPanel(api, {
  voice: () => $("tts-voice").value,
  onCharged: () => refreshAccount().catch(() => {}),
});

async function refreshVoices(selectId) {
  const voices = await api.voices();
  speak.setVoices(voices, selectId);
}

const clones = new ClonePanel(api, {
  onCreated: (clone) => refreshVoices(clone.voice_id).catch((e) => announce(describeError(e), { error: true })),
  onDeleted: () => refreshVoices().catch((e) => announce(describeError(e), { error: true })),
  onUse: (id) => speak.selectVoice(id),
  onCharged: () => refreshAccount().catch(() => {}),
});

function showSignedIn(signedIn) {
  $("signin").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("account-bar").hidden = !signedIn;
  document.body.dataset.signedIn = String(signedIn);
}

/** Offer exactly the languages the server's engine speaks (the page ships a fallback list). */
async function refreshLanguages() {
  try {
    const health = await api.health();
    const codes = health && health.engine && Array.isArray(health.engine.languages) ? health.engine.languages : null;
    if (codes && codes.length) speak.setLanguages(codes);
  } catch {
    // keep the built-in list
  }
}

async function enter() {
  await refreshAccount();
  showSignedIn(true);
  await Promise.all([refreshVoices(), clones.refresh(), refreshLanguages()]);
}

function signOut(message) {
  agent.stop();
  setKey(null);
  showSignedIn(false);
  $("api-key").value = "";
  $("signin-error").textContent = message || "";
  $("api-key").focus();
  announce(message || "Signed out.", { error: Boolean(message) });
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = $("api-key").value.trim();
  const error = $("signin-error");
  if (!key) {
    error.textContent = "Enter your API key.";
    $("api-key").focus();
    return;
  }
  const button = $("signin-submit");
  button.disabled = true;
  error.textContent = "";
  setKey(key);
  try {
    await enter();
    announce("Signed in.");
    $("tts-text").focus();
  } catch (err) {
    setKey(null);
    showSignedIn(false);
    error.textContent = err.status === 401 ? "That key was not accepted. Check it and try again." : describeError(err);
    $("api-key").focus();
  } finally {
    button.disabled = false;
  }
});

$("sign-out").addEventListener("click", () => signOut());

if (memoryKey) {
  enter().catch((e) => {
    if (e.status !== 401) announce(describeError(e), { error: true });
  });
} else {
  showSignedIn(false);
}
document.body.dataset.ready = "true";
