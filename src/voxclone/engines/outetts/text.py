"""Text handling exactly as OuteTTS v3 does it: normalisation, speaker-text merge, chunking.

Ports of ``outetts.version.v3.prompt_processor.PromptProcessor.text_normalizations`` /
``merge_speaker_text``, ``outetts.utils.preprocessing.text_normalizations`` (used on Whisper
transcripts) and ``outetts.utils.chunking.chunk_text``; the conformance tests compare them with the
library byte for byte.
"""

from __future__ import annotations

import re
import unicodedata

_SENTENCE_END = re.compile(r"([.!?。！？︕︖]+\s*)")


def normalize_text(text: str) -> str:
    """Normalise input text like OuteTTS v3's prompt processor (ftfy, NFKC, quotes, dashes, spacing).

    Parameters
    ----------
    text : str
        Raw user text.

    Returns
    -------
    str
        The text the model sees.
    """
    import ftfy

    text = ftfy.fix_text(text)
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("…", "...")
    text = re.sub(r"\.{2,}", "...", text)
    text = re.sub(r"[“”„‟«»]", '"', text)
    text = re.sub(r"[‘’‛‹›`´]", "'", text)
    text = re.sub(r"[–—―−‐]", "-", text)
    text = re.sub(r"-{2,}", "-", text)
    text = re.sub(r"[\x00-\x1F\x7F-\x9F\u00AD\u200B-\u200D\uFEFF]", "", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.?!:;])", r"\1", text)
    text = re.sub(r"([,.?!:;])(?=[^\s,.?!:;])", r"\1 ", text)
    text = re.sub(r"(\w)\s+'\s*(\w)", r"\1'\2", text)
    text = re.sub(r"(\w)\s+'\s*([,.?!:;\s]|$)", r"\1'\2", text)
    text = re.sub(r"(\w)\s*'\s*([tsdmreSNTDMRE])\b", r"\1'\2", text, flags=re.IGNORECASE)
    text = re.sub(r"([?!])\1+", r"\1", text)
    text = re.sub(r"\s+", " ", text)
    return text.replace('"', "").strip()


def normalize_transcript(text: str) -> str:
    """Light normalisation OuteTTS applies to a Whisper transcript before it becomes the speaker text."""
    text = re.sub(r"\s+", " ", text)
    text = text.replace("…", "...").strip()
    text = re.sub(r"[“”]", '"', text)
    text = re.sub(r"[‘’]", "'", text)
    text = re.sub(r"[–—]", "-", text)
    return re.sub(r"[\x00-\x1F\x7F-\x9F]", "", text)


def merge_speaker_text(*, text: str, speaker_text: str) -> tuple[str, str]:
    """Join the speaker's transcript and the text to speak; return ``(merged, separator)``.

    The separator (``"."``, ``"。"`` or ``""``) is what OuteTTS appends to the speaker's last word.
    """
    speaker_text = speaker_text.strip()
    cjk_kana = any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in speaker_text)
    separator = "。" if cjk_kana else ". "
    allowed = ("。", "？", "！", "?", "!") if separator == "。" else (".", "?", "!")
    rs = ""
    if speaker_text:
        if speaker_text[-1] not in allowed:
            rs = separator
        elif separator != "。":
            rs = " "
    return speaker_text + rs + text.strip(), rs.strip()


def _is_cjk(text: str | list[str]) -> bool:
    # OuteTTS' check_language; given a token list it compares whole tokens, like the original.
    return any(
        "\u3040" <= c <= "\u309f" or "\u30a0" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text
    )


def _tokens(text: str) -> list[str]:
    """Words of ``text``: whitespace split; MeCab (when installed) or characters for CJK text."""
    if not text.strip():
        return []
    if _is_cjk(text):
        try:
            import MeCab  # optional, as in OuteTTS
        except ImportError:
            return [c for c in text if not c.isspace()]
        return str(MeCab.Tagger("-Owakati").parse(text)).strip().split()
    return text.split()


def split_sentences(text: str) -> list[str]:
    """Split on sentence-final punctuation, keeping it (OuteTTS ``split_into_sentences``)."""
    parts = _SENTENCE_END.split(text)
    out = []
    for i in range(0, len(parts), 2):
        s = parts[i] + (parts[i + 1] if i + 1 < len(parts) else "")
        if s.strip():
            out.append(s.strip())
    return out


def _join(tokens: list[str]) -> str:
    return "".join(tokens) if _is_cjk(tokens) else " ".join(tokens)


def chunk_text(text: str, *, min_words: int = 10, max_words: int = 30) -> list[str]:
    """Group sentences into chunks of ``min_words``–``max_words`` words (OuteTTS ``chunk_text``).

    Long sentences are cut every ``max_words`` words; a sentence that does not fit a chunk still
    short of ``min_words`` is split to fill it.
    """
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    chunks: list[str] = []
    current, count = "", 0
    for sentence in split_sentences(text) if text else []:
        tokens = _tokens(sentence)
        n = len(tokens)
        if n > max_words:
            if current:
                chunks.append(current)
                current, count = "", 0
            for i in range(0, n, max_words):
                part = tokens[i : i + max_words]
                chunks.append("".join(part) if _is_cjk(sentence) else " ".join(part))
            continue
        if count + n <= max_words:
            current = f"{current} {sentence}" if current else sentence
            count += n
        elif count >= min_words:
            chunks.append(current)
            current, count = sentence, n
        else:
            head, rest = tokens[: max_words - count], tokens[max_words - count :]
            if current:
                sep = "" if _is_cjk(head) else " "
                chunks.append(current + sep + _join(head))
            else:
                chunks.append(_join(head))
            current, count = _join(rest), len(rest)
    if current:
        chunks.append(current)
    return chunks
