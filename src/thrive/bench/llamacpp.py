"""llama.cpp: Thrive's backend against bare llama-cpp-python on the same prompt."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from thrive.base.errors import ThriveError
from thrive.bench.config import BenchConfig
from thrive.bench.measure import ms
from thrive.coaching.coach import Coach


def llamacpp_rates(
    coach: Coach, config: BenchConfig, tick: Callable[[int], None]
) -> tuple[float | None, float | None, dict[str, Any]]:
    """Tokens per second of Thrive's llamacpp backend and of bare llama-cpp-python on the
    same prompt, sampling, seed and max tokens. Each run starts from an empty KV cache, so
    both pay the whole prompt; the rate is output tokens over request-to-last-token time."""
    from thrive.models import create_backend
    from thrive.models.llamacpp import chat_messages, model_file

    try:
        path = model_file("", coach.settings)
        backend = create_backend(f"llamacpp:{path}", coach.settings)
        from llama_cpp import Llama
    except (ThriveError, ImportError) as err:
        return None, None, {"skipped": str(err)}
    llama: Any = backend.llama  # type: ignore[attr-defined]
    bare: Any = Llama(model_path=str(path), n_ctx=llama.n_ctx(), verbose=False)
    bare.chat_format = llama.chat_format  # the same prompt, whatever format the backend chose
    prepared = coach.prepare("Will clients pay me less for my copywriting because of AI?")
    assert prepared.request is not None
    request = dataclasses.replace(prepared.request, max_tokens=config.llama_tokens)
    # The very messages the backend sends (for gemma, the system text folded into the first
    # user turn), so both sides process the same prompt and generate from the same state.
    messages = chat_messages(request.messages, llama.chat_format)

    def ours() -> Iterator[str]:
        return backend.stream(request)

    def floor() -> Iterator[str]:
        events = bare.create_chat_completion(
            messages=messages, stream=True, max_tokens=config.llama_tokens, temperature=0.2
        )
        return (e["choices"][0]["delta"].get("content") or "" for e in events)

    contenders = {"ours": (llama, ours), "bare": (bare, floor)}
    tokens = {name: 0 for name in contenders}
    seconds = {name: 0.0 for name in contenders}
    first: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for run in range(config.llama_runs):
            for name in list(contenders) if run % 2 == 0 else reversed(list(contenders)):
                model, generate = contenders[name]
                model.reset()  # no prompt reuse from the previous run
                model.set_seed(config.seed)
                started = time.perf_counter()
                pieces: list[str] = []
                for piece in generate():
                    if not pieces:
                        first[name].append(time.perf_counter() - started)
                    pieces.append(piece)
                seconds[name] += time.perf_counter() - started
                text = "".join(pieces).encode("utf-8")
                tokens[name] += len(model.tokenize(text, add_bos=False, special=True))
            tick(run + 1)
    finally:
        bare.close()  # now, not in __del__ at interpreter exit, when llama.cpp is gone
    rates = {n: round(tokens[n] / seconds[n], 2) if seconds[n] else None for n in contenders}
    info = {
        "model": path.name,
        "chat_format": llama.chat_format,
        "max_tokens": config.llama_tokens,
        "runs": config.llama_runs,
        "tokens": tokens,
        "first_token_ms": {n: ms(statistics.median(v)) if v else None for n, v in first.items()},
        "threads": {"ours": llama.n_threads, "bare": bare.n_threads},
    }
    return rates["ours"], rates["bare"], info
