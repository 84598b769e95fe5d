// The "Spoken consent" step of the clone card: get a challenge phrase, record the speaker reading
// it, and hand its id and recording to the clone upload (POST /api/v1/voice-clones).

import { extensionFor, Recorder, recordingSupported } from "./recorder.js";
import { $, announce, describeError } from "./ui.js";

const MAX_SECONDS = 25;

export class ConsentStep {
  /** @param {import("./api.js").Api} api */
  constructor(api) {
    this.api = api;
    this.challenge = null; // {challenge_id, phrase, expires_at}
    this.recording = null; // {blob, filename}
    this.recorder = null;
    $("consent-get").addEventListener("click", () => this.getChallenge());
    $("consent-rec").addEventListener("click", () => this.record());
    $("consent-stop").addEventListener("click", () => this.recorder && this.recorder.stop());
    if (!recordingSupported()) $("consent-rec").disabled = true;
  }

  async getChallenge() {
    try {
      const body = await this.api.json("POST", "api/v1/consent-challenges", { json: { language: "en" } });
      this.challenge = body.data || body;
      this.recording = null;
      $("consent-phrase").textContent = this.challenge.phrase;
      $("consent-phrase").hidden = false;
      $("consent-rec").disabled = !recordingSupported();
      $("consent-state").textContent = `Read the phrase aloud, whole, before ${new Date(this.challenge.expires_at).toLocaleTimeString()}.`;
      announce(`Consent phrase: ${this.challenge.phrase}. Press Record phrase and read it aloud.`);
    } catch (e) {
      announce(describeError(e), { error: true });
    }
  }

  async record() {
    if (this.recorder || !this.challenge) return;
    this.recorder = new Recorder({ maxSeconds: MAX_SECONDS, onLevel: () => {}, onTick: () => {} });
    $("consent-rec").disabled = true;
    $("consent-stop").disabled = false;
    announce("Recording the consent phrase… press Stop when done.");
    try {
      const { blob, seconds, mimeType } = await this.recorder.start();
      this.recording = { blob, filename: `consent.${extensionFor(mimeType)}` };
      $("consent-state").textContent = `Consent recorded (${seconds.toFixed(1)} s). Now record or upload the reference.`;
      announce("Consent recorded. Now record or upload the reference.");
    } catch (e) {
      announce(describeError(e), { error: true });
    } finally {
      this.recorder = null;
      $("consent-rec").disabled = false;
      $("consent-stop").disabled = true;
    }
  }

  /** Fields for the clone upload: none until a challenge was fetched. */
  fields() {
    if (!this.challenge) return null;
    return { challengeId: this.challenge.challenge_id, audio: this.recording };
  }

  /** A challenge is used once: forget it after a successful clone. */
  reset() {
    this.challenge = null;
    this.recording = null;
    $("consent-phrase").hidden = true;
    $("consent-state").textContent = "";
  }
}
