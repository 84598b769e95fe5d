"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright.

A fake microphone plays speech rendered by the Kokoro engine; the page records it, creates a
clone, shows the quality report, streams speech in the new voice (WebAudio), and downloads it.
Screenshots (desktop and phone width) go to ``test-artifacts/``.

Needs ``chromium`` (apt) and the ``playwright`` pip package (its driver only: never
``playwright install``); ``.ci/browser.sh`` installs both. Skipped locally when they are missing,
but fails when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from live_http import serve_in_thread

from voxclone.settings import Settings

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("VOXCLONE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# About 5 s of speech, played twice: rendering is the slow part of this test's setup.
MIC_TEXT = "Good morning. I am recording my voice for the playground, slowly and clearly."
SPEAK_TEXT = "Hello from the browser test. This sentence streams while it is made."
T_SHORT = 15_000  # ms
T_ENGINE = 90_000  # ms: clone creation and synthesis on a loaded 2-core machine


def _need_browser() -> Any:
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright pip package")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        missing.append(f"Chromium at {CHROMIUM}")
    if missing:
        msg = f"browser tests need {' and '.join(missing)}: run .ci/browser.sh"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    return sync_playwright


def cloning_available() -> bool:
    """Whether this build can enroll voices (intake and the Kokoro cloning stage both present)."""
    if any(
        importlib.util.find_spec(name) is None
        for name in ("voxclone.audio.intake", "voxclone.engines.kokoro.cloning")
    ):
        return False
    cloning = importlib.import_module("voxclone.engines.kokoro.cloning")
    return callable(getattr(getattr(cloning, "KokoroCloner", None), "enroll", None))


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    """Run ``app`` on a free 127.0.0.1 port in a thread; yield its base URL with a trailing slash."""
    with serve_in_thread(app) as base_url:
        yield f"{base_url}/"


@dataclass
class Server:
    url: str
    app: Any

    def new_key(self, credits: str) -> str:
        _, key = self.app.state.services.accounts.create_key(account="web-test", credits=credits)
        return str(key)


@pytest.fixture(scope="module")
def server(kokoro_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app (real engine, SQLite in a temp folder) on a free 127.0.0.1 port."""
    from voxclone.api import create_app

    data_dir = tmp_path_factory.mktemp("web") / "data"
    app = create_app(Settings(data_dir=data_dir, onnx_threads=1, synthesis_workers=1), engine=kokoro_engine)
    with _serve(app) as url:
        yield Server(url=url, app=app)


@pytest.fixture(scope="module")
def static_url() -> Iterator[str]:
    """Only the playground's files (no engine): for tests of the page's own modules."""
    from fastapi import FastAPI

    from voxclone.web import mount_playground

    app = FastAPI()
    mount_playground(app)
    with _serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def mic_wav(kokoro_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """≥ 8 s of one speaker at 48 kHz, 16-bit: what Chromium's fake microphone plays (looped)."""
    from scipy.signal import resample_poly

    audio = kokoro_engine.generate(MIC_TEXT, kokoro_engine.builtin_profile("en-male-1"), language="en-us")
    gap = np.zeros(int(0.4 * kokoro_engine.sample_rate), np.float32)
    audio = np.concatenate([gap, np.asarray(audio, np.float32), gap])
    while len(audio) < 8.5 * kokoro_engine.sample_rate:
        audio = np.concatenate([audio, audio])
    assert len(audio) >= 8 * kokoro_engine.sample_rate
    audio48 = resample_poly(audio, 48000, kokoro_engine.sample_rate).astype(np.float32)
    audio48 *= 0.7 / max(1e-6, float(np.abs(audio48).max()))  # peaks about −3 dBFS
    path = tmp_path_factory.mktemp("mic") / "mic.wav"
    sf.write(path, audio48, 48000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as p:
        yield p


def _launch(playwright: Any, mic_wav: Path | None = None) -> Any:
    """Headless Debian Chromium; with ``mic_wav`` the fake microphone plays that file (looped)."""
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if mic_wav is not None:
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={mic_wav}",
        ]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


@pytest.fixture(scope="module")
def browser(playwright_driver: Any, mic_wav: Path) -> Iterator[Any]:
    b = _launch(playwright_driver, mic_wav)
    try:
        yield b
    finally:
        b.close()


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def _attr(page: Any, selector: str, name: str) -> str | None:
    value: str | None = page.get_attribute(selector, name)
    return value


def test_record_clone_speak_download(server: Server, browser: Any, mic_wav: Path, tmp_path: Path) -> None:
    key = server.new_key("10")
    # bypass_csp: Playwright evaluates wait_for_function strings with eval, which the page's CSP forbids.
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True)
    ctx.grant_permissions(["microphone"], origin=server.url.rstrip("/"))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Failed HTTP responses are logged by Chromium itself; the page reports those in its own UI.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.set_default_timeout(T_SHORT)
    try:
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]")

        # A wrong key is refused with a visible message, and nothing is stored.
        page.fill("#api-key", "oute_" + "x" * 40)
        page.click("#signin-submit")
        page.wait_for_function("document.getElementById('signin-error').textContent.length > 0")
        assert page.is_visible("#signin")
        assert page.evaluate("sessionStorage.length") == 0
        # ...in whole sentences (the server's message has no full stop of its own)
        assert page.inner_text("#signin-error") == "That key was not accepted. Check it and try again."
        assert page.inner_text("#status") == (
            "The API key is invalid or has been revoked. Check the API key and sign in again."
        )

        # Sign in with the keyboard: type the key and press Enter.
        page.fill("#api-key", key)
        page.press("#api-key", "Enter")
        page.wait_for_selector("#app:not([hidden])")
        assert page.inner_text("#balance").startswith("10")
        assert page.evaluate("sessionStorage.getItem('voxclone.apiKey')") == key
        assert page.evaluate("localStorage.length") == 0
        page.wait_for_function("document.querySelectorAll('#tts-voice option').length >= 5")

        # Every visible form control has an accessible name.
        unlabeled = page.evaluate(
            """[...document.querySelectorAll('input, select, textarea, button')]
                 .filter((el) => el.offsetParent !== null)
                 .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                                 && !el.textContent.trim())
                 .map((el) => el.id || el.outerHTML.slice(0, 60))"""
        )
        assert unlabeled == []

        # Upload a file: previewed at once (waveform, duration), its name offered as the clone name.
        page.set_input_files("#ref-file", str(mic_wav))
        page.wait_for_selector("#waveform[data-drawn=true]")
        assert re.search(r"mic\.wav · .* · \d+\.\d s · peak", page.inner_text("#ref-info"))
        assert page.input_value("#clone-name") == "mic"
        page.evaluate("document.getElementById('waveform').removeAttribute('data-drawn')")

        # Record from the fake microphone; the level meter moves and the countdown stops it at 10 s.
        page.click("#rec-start")
        page.wait_for_selector("body[data-rec-state=recording]")
        page.wait_for_function("document.getElementById('rec-level').value > 0.3")
        assert page.is_enabled("#rec-stop")
        page.wait_for_selector("body[data-rec-state=recorded]", timeout=T_SHORT + 10_000)
        assert page.inner_text("#rec-countdown") == "0.0 s"
        page.wait_for_selector("#waveform[data-drawn=true]")
        info = re.search(
            r"Recording · (9\.\d|10\.\d) s · peak (-?\d+\.\d) dBFS", page.inner_text("#ref-info")
        )
        assert info, page.inner_text("#ref-info")
        assert -6.0 < float(info.group(2)) <= 0.0  # the fake microphone peaks at about -3 dBFS
        # The player knows the clip's length (a MediaRecorder file alone has none: 0:00).
        page.wait_for_function("Number.isFinite(document.getElementById('ref-audio').duration)")
        player_s = page.evaluate("document.getElementById('ref-audio').duration")
        assert player_s == pytest.approx(float(info.group(1)), abs=0.15)

        page.fill("#clone-name", "Browser voice")
        page.click("#clone-go")
        page.wait_for_selector(
            "body:is([data-clone-state=created], [data-clone-state=error])", timeout=T_ENGINE
        )
        state = _attr(page, "body", "data-clone-state")
        if cloning_available():
            assert state == "created", page.inner_text("#status")
            score = page.inner_text("#quality-score")
            assert score.isdigit() and 0 <= int(score) <= 100
            assert page.locator("#quality-warnings li").count() >= 1
            item = page.locator("#clone-list li", has_text="Browser voice")
            assert item.count() == 1
            voice_id = item.get_attribute("data-voice-id")
            assert voice_id and voice_id.startswith("vc_")
            assert page.input_value("#tts-voice") == voice_id  # the new clone is selected to speak
            # Label in name (WCAG 2.5.3): each labelled control's name contains its visible text.
            mismatched = page.evaluate(
                """[...document.querySelectorAll('button[aria-label], a[aria-label], input[aria-label]')]
                     .filter((el) => el.offsetParent !== null)
                     .filter((el) => {
                       const shown = el.innerText.trim().replace(/\\s+/g, ' ').toLowerCase();
                       return shown && !el.getAttribute('aria-label').toLowerCase().includes(shown);
                     })
                     .map((el) => `${el.innerText.trim()} / ${el.getAttribute('aria-label')}`)"""
            )
            assert mismatched == []
            item.get_by_role("button", name=re.compile("^Report")).click()
            assert page.inner_text("#quality-title") == "Quality report: Browser voice"
        else:
            assert state == "error"
            assert page.inner_text("#clone-error")  # the server's reason is shown
            page.select_option("#tts-voice", "en-male-1")
            voice_id = None
        _shot(page, "playground-desktop-cloned.png")

        # Stream speech: PCM through WebAudio as it arrives, with time to first audio shown.
        page.fill("#tts-text", SPEAK_TEXT)
        page.click("#tts-go")
        page.wait_for_selector("body[data-tts-state=playing]", timeout=T_ENGINE)
        assert re.fullmatch(r"\d+ ms", page.inner_text("#ttfa"))
        page.wait_for_selector("#tts-download:not([hidden])", timeout=T_ENGINE)
        page.wait_for_selector("body[data-tts-state=done]", timeout=T_ENGINE)
        received = int(_attr(page, "#bytes-received", "data-bytes") or 0)
        played = float(_attr(page, "#played-seconds", "data-seconds") or 0)
        audio_s = received / 2 / 24000
        assert audio_s > 1.5
        assert played == pytest.approx(audio_s, abs=0.01)  # every received sample was heard
        _shot(page, "playground-desktop-spoken.png")

        with page.expect_download() as dl:
            page.click("#tts-download")
        saved = tmp_path / dl.value.suggested_filename
        dl.value.save_as(saved)
        assert saved.suffix == ".wav"
        wav, sr = sf.read(io.BytesIO(saved.read_bytes()), dtype="float32")
        assert sr == 24000 and len(wav) == received // 2
        assert float(np.sqrt(np.mean(wav**2))) > 0.01  # speech, not silence

        # A compressed format: streamed, played by the <audio> element, downloaded as sent.
        page.select_option("#tts-format", "mp3")
        page.fill("#tts-text", "Short and compressed.")
        page.press("#tts-text", "Control+Enter")  # keyboard shortcut for Generate
        page.wait_for_selector("body[data-tts-state=done]", timeout=T_ENGINE)
        assert re.fullmatch(r"\d+ ms", page.inner_text("#ttfa"))
        with page.expect_download() as dl:
            page.click("#tts-download")
        mp3 = Path(dl.value.path()).read_bytes()
        assert dl.value.suggested_filename.endswith(".mp3")
        assert mp3[:3] == b"ID3" or (mp3[0] == 0xFF and mp3[1] & 0xE0 == 0xE0)
        assert len(mp3) == int(_attr(page, "#bytes-received", "data-bytes") or 0)

        if voice_id:
            # The clone's test sample plays; deleting removes it from the list and the voice menu.
            item = page.locator(f"#clone-list li[data-voice-id={voice_id}]")
            item.get_by_role("button", name=re.compile("^Play sample")).click()
            page.wait_for_selector(
                f"#clone-list li[data-voice-id={voice_id}] button[data-played=true]", timeout=T_ENGINE
            )
            page.once("dialog", lambda d: d.accept())
            item.get_by_role("button", name=re.compile("Delete")).click()
            page.wait_for_selector(f"#clone-list li[data-voice-id={voice_id}]", state="detached")
            page.wait_for_function(
                f"![...document.querySelectorAll('#tts-voice option')].some(o => o.value === '{voice_id}')"
            )

        # Credits were charged (clone and audio) and the balance shown follows.
        page.wait_for_function("Number(document.getElementById('balance').dataset.value) < 10")

        # Phone width: one column, no sideways scrolling.
        page.set_viewport_size({"width": 375, "height": 812})
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        _shot(page, "playground-phone.png")
        page.emulate_media(color_scheme="dark")
        _shot(page, "playground-phone-dark.png")

        # The key survives a reload of the tab (sessionStorage) and is forgotten on sign-out.
        page.reload()
        page.wait_for_selector("#app:not([hidden])")
        page.click("#sign-out")
        page.wait_for_selector("#signin:not([hidden])")
        assert page.evaluate("sessionStorage.getItem('voxclone.apiKey')") is None

        assert errors == []
    except BaseException:
        _shot(page, "playground-failure.png")
        raise
    finally:
        ctx.close()


def test_pcm_player_reassembles_odd_chunks_into_wav(static_url: str, playwright_driver: Any) -> None:
    """Stream bytes split at odd offsets: every sample survives, and the WAV built is valid."""
    browser = _launch(playwright_driver)
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    try:
        page.goto(static_url)
        result = page.evaluate(
            """async () => {
              const { PcmStreamPlayer, pcmToWav } = await import("./playground/js/pcm.js");
              const n = 2401;
              const bytes = new Uint8Array(n * 2);
              const view = new DataView(bytes.buffer);
              for (let i = 0; i < n; i += 1) view.setInt16(i * 2, ((i * 37) % 65536) - 32768, true);
              const ctx = new OfflineAudioContext(1, 48000, 24000);
              const player = new PcmStreamPlayer(ctx, { leadSeconds: 0 });
              for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7) % 1001 + 1) {
                player.push(bytes.subarray(at, Math.min(bytes.length, at + step)));
              }
              const wav = new Uint8Array(await player.wav().arrayBuffer());
              const raw = new Uint8Array(await player.raw().arrayBuffer());
              const same = raw.length === bytes.length && raw.every((b, i) => b === bytes[i]);
              const empty = new Uint8Array(await pcmToWav([], 24000).arrayBuffer());
              return { total: player.totalSamples, same, wav: Array.from(wav), emptyLen: empty.length,
                       firstAudio: player.firstAudioMs !== null };
            }"""
        )
    finally:
        browser.close()
    assert result["total"] == 2401 and result["same"] and result["firstAudio"]
    assert result["emptyLen"] == 44
    wav, sr = sf.read(io.BytesIO(bytes(result["wav"])), dtype="int16")
    expected = ((np.arange(2401) * 37) % 65536 - 32768).astype(np.int16)
    assert sr == 24000 and np.array_equal(wav, expected)


def test_messages_and_clip_helpers(static_url: str, playwright_driver: Any) -> None:
    """The page's own helpers: error messages are whole sentences; a decoded clip becomes a WAV."""
    browser = _launch(playwright_driver)
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    try:
        page.goto(static_url)
        result = page.evaluate(
            """async () => {
              const { describeError } = await import("./playground/js/ui.js");
              const { floatToWav } = await import("./playground/js/pcm.js");
              const err = (status, message, requestId = null) => ({ status, message, requestId });
              const messages = [
                describeError(err(401, "the API key is invalid or has been revoked")),
                describeError(err(402, "the balance is 0.001 credits; this request needs 0.002")),
                describeError(err(503, "every synthesis worker is busy")),
                describeError(err(500, "the server hit an unexpected error; it was logged", "req_1")),
                describeError(err(404, "voice 'x' not found")),
                describeError(err(401, "Already a sentence.")),
              ];
              const clip = floatToWav(new Float32Array([0, 0.5, -1.5, 1]), 48000);
              const wav = new Uint8Array(await clip.arrayBuffer());
              return { messages, wav: Array.from(wav) };
            }"""
        )
    finally:
        browser.close()
    messages = result["messages"]
    assert messages[0] == "The API key is invalid or has been revoked. Check the API key and sign in again."
    assert messages[3].endswith("logged. Request id: req_1.")
    assert messages[5] == "Already a sentence. Check the API key and sign in again."
    for message in messages:
        assert message[0].isupper() and message.endswith("."), message
        assert not re.search(r"[^.] (Check|Ask|The server|Request id)", message), message
    wav, sr = sf.read(io.BytesIO(bytes(result["wav"])), dtype="int16")
    assert sr == 48000 and wav.tolist() == [0, 16384, -32767, 32767]


def test_a_full_scale_recording_peaks_at_0_dbfs(static_url: str, playwright_driver: Any) -> None:
    """Chromium's own fake microphone beeps at full scale; Opus decoding overshoots ±1, and the
    page still reports the peak as 0 dBFS, never as a positive level."""
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
        ],
    )
    ctx = browser.new_context(bypass_csp=True)
    ctx.grant_permissions(["microphone"], origin=static_url.rstrip("/"))
    page = ctx.new_page()
    try:
        page.goto(static_url)
        result = page.evaluate(
            """async () => {
              const { Recorder } = await import("./playground/js/recorder.js");
              const { decodeToMono, peakDbfs } = await import("./playground/js/waveform.js");
              const { blob } = await new Recorder({ maxSeconds: 2 }).start();
              const { samples } = await decodeToMono(blob);
              let raw = 0;
              for (const s of samples) raw = Math.max(raw, Math.abs(s));
              return { raw, dbfs: peakDbfs(samples), quiet: peakDbfs(new Float32Array([0.5, -0.25])) };
            }"""
        )
    finally:
        browser.close()
    assert result["raw"] > 1.0  # the decoded recording does exceed full scale
    assert result["dbfs"] == 0.0
    assert result["quiet"] == pytest.approx(-6.02, abs=0.01)


@pytest.fixture(scope="module")
def toy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app around the toy engine (a tone per word, with word timestamps)."""
    from toy_engine import ToyEngine

    from voxclone.api import create_app

    data_dir = tmp_path_factory.mktemp("web-toy") / "data"
    app = create_app(Settings(data_dir=data_dir, synthesis_workers=1), engine=ToyEngine(delay_s=0.02))
    with _serve(app) as url:
        yield Server(url=url, app=app)


def test_agent_types_word_by_word_and_lights_up_spoken_words(
    toy_server: Server, playwright_driver: Any
) -> None:
    """The Agent card over the real-time WebSocket, under the page's own CSP (connect-src 'self')."""
    browser = _launch(playwright_driver)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(T_SHORT)
        page.goto(toy_server.url)
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#api-key", toy_server.new_key("10"))
        page.press("#api-key", "Enter")
        page.wait_for_selector("#tts-voice option", state="attached")
        text = "Hello there, my friend. The agent speaks while it types!"
        page.fill("#agent-text", text)
        page.fill("#agent-interval", "20")
        page.click("#agent-go")
        words = text.split()
        page.wait_for_selector("#agent-charged:text-matches('^0\\\\.')")
        page.wait_for_selector(f"#agent-transcript .agent-word:nth-child({len(words)})[data-state=spoken]")
        assert page.locator("#agent-transcript .agent-word[data-state=spoken]").count() == len(words)
        assert page.inner_text("#agent-seconds") == f"{0.1 * len(words):.2f} s"
        assert page.inner_text("#agent-first").endswith(" ms")
        assert errors == []
        _shot(page, "playground-agent.png")
    finally:
        browser.close()
