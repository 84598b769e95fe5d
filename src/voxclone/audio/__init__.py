"""Audio: decoding uploads, analysing references, speaker embeddings, encoding output."""
