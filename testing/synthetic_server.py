"""A synthetic OpenAI-compatible chat server: valid structured output for any JSON schema after a set latency.

It is a *test double* for an inference engine (it does no inference). Benchmarks use it to measure the
orchestrator alone (`gauntlet bench orchestration`), and tests use it as a real HTTP peer on 127.0.0.1 with
scripted replies and injected faults (5xx, 429, timeouts, malformed or truncated JSON). It answers `logprobs`
requests with deterministic token log-probabilities (testing/synthetic_logprobs.py), or, in the modes `none` and
`refuse`, like a server without them; and it takes a GBNF `grammar` the way its dialect's engine does (the content
is scripted or synthesised: it checks where the grammar rode, it cannot decode under it).

    python -m gauntlet.testing.synthetic_server --port 8011 --latency-ms 200
"""


import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from typing import Any, Iterator

from gauntlet.testing.synthetic_logprobs import MODES, LogprobPlan, answer

WORDS = ("model", "reward", "oversight", "proxy", "deception", "probe", "eval", "incentive", "adversary",
         "bound", "assumption", "counterexample", "training", "monitor", "gradient", "policy", "agent")
FAULTS = ("http_500", "http_429", "http_503", "timeout", "invalid_json", "truncated", "schema_violation",
          "drop")


def synthesise(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value that satisfies the (simple, JSON-schema subset) schema our agents send."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "anyOf" in schema:  # e.g. one critique variant per target, each with its own quotable spans
        return synthesise(rng.choice(schema["anyOf"]), rng)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: synthesise(v, rng) for k, v in props.items()}
    if kind == "array":
        lo = schema.get("minItems", 0)
        hi = schema.get("maxItems", max(lo, 2))
        return [synthesise(schema.get("items", {"type": "string"}), rng) for _ in range(rng.randint(lo, max(lo, hi)))]
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 10)))
    if kind == "number":
        return round(rng.uniform(float(schema.get("minimum", 0)), float(schema.get("maximum", 1))), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    limit = int(schema.get("maxLength", 120))
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
    return text[:limit]


def _seed_of(body: dict[str, Any]) -> int:
    blob = json.dumps([body.get("messages"), body.get("seed")], sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")


DIALECTS = ("openai", "llamacpp", "vllm")
# What /v1/models says owns the model, per engine (how a client tells where a grammar rides).
OWNED_BY = {"openai": "openai", "llamacpp": "me", "vllm": "vllm"}
# What llama-cpp-python 0.3.x's server answers to `response_format: {"type": "json_schema", ...}` (HTTP 500).
LLAMACPP_REJECTION = ("1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                      "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}")


def schema_of(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema a request asks for, in either dialect (json_schema.schema or json_object's schema)."""
    fmt = response_format or {}
    if fmt.get("type") == "json_object":
        return fmt.get("schema")
    return (fmt.get("json_schema") or {}).get("schema")


def grammar_of(body: dict[str, Any], dialect: str) -> tuple[str | None, str]:
    """(the GBNF grammar a request carries in this dialect's field, why it is refused or "")."""
    if dialect == "llamacpp":
        return body.get("grammar"), ""
    if dialect == "vllm":
        return (body.get("structured_outputs") or {}).get("grammar") or body.get("guided_grammar"), ""
    if any(k in body for k in ("grammar", "guided_grammar", "structured_outputs")):
        return None, "Unrecognized request argument supplied: grammar"
    return None, ""


def make_app(latency_ms: float = 0.0, faults: list[str] | None = None, script: list[str] | None = None,
             dialect: str = "openai", logprobs: LogprobPlan | None = None) -> Any:
    """The FastAPI app. `faults` are applied to the first requests, one each, in order; then `script`
    replies (raw assistant content) are used in order; after that, synthesised replies. `dialect="llamacpp"`
    answers like llama-cpp-python's server: json_schema response formats are refused with its HTTP 500, a
    grammar rides in `grammar`; `vllm` takes it in `structured_outputs`; `openai` refuses grammars (HTTP 400)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse

    app = FastAPI(title="gauntlet synthetic OpenAI-compatible server")
    plan = {"faults": list(faults or []), "script": list(script or []), "requests": 0, "rejected": 0,
            "scored": 0, "grammars": []}
    lp_plan = logprobs or LogprobPlan()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "synthetic", "object": "model", "owned_by": OWNED_BY[dialect]}]}

    @app.get("/version")
    async def version() -> dict[str, str]:
        return {"version": "0.11.0" if dialect == "vllm" else "synthetic"}

    @app.get("/stats")
    async def stats() -> dict[str, Any]:
        # cpu_s: this server's own CPU time, so a benchmark can tell its share of the cores from the client's.
        return {"requests": plan["requests"], "faults_left": len(plan["faults"]), "rejected": plan["rejected"],
                "scored": plan["scored"], "grammars": plan["grammars"], "cpu_s": round(time.process_time(), 4)}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        if dialect == "llamacpp" and (body.get("response_format") or {}).get("type") not in (None, "text",
                                                                                          "json_object"):
            plan["rejected"] += 1
            return JSONResponse({"error": {"message": LLAMACPP_REJECTION, "type": "internal_server_error"}},
                                status_code=500)
        grammar, refusal = grammar_of(body, dialect)
        wants_logprobs = bool(body.get("logprobs"))
        if wants_logprobs and lp_plan.mode == "refuse":
            refusal = "logprobs are not supported by this server"
        if refusal:
            plan["rejected"] += 1
            return JSONResponse({"error": {"message": refusal, "type": "invalid_request_error"}}, status_code=400)
        if grammar is not None:
            plan["grammars"].append(grammar)
        plan["requests"] += 1
        fault = plan["faults"].pop(0) if plan["faults"] else None
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if fault and fault.startswith("http_"):
            code = int(fault.split("_")[1])
            return JSONResponse({"error": {"message": f"injected {code}"}}, status_code=code)
        if fault == "timeout":
            await asyncio.sleep(3600)
        if fault == "drop":
            return PlainTextResponse("not json at all", status_code=200)
        fmt = schema_of(body.get("response_format"))
        rng = random.Random(_seed_of(body))
        choice_logprobs = None
        if wants_logprobs and lp_plan.mode == "hash" and fmt is None:
            plan["scored"] += 1
            content, choice_logprobs = answer(body, lp_plan, plan["script"].pop(0) if plan["script"] else None)
        elif plan["script"]:
            content = plan["script"].pop(0)
        elif fmt is not None:
            content = json.dumps(synthesise(fmt, rng))
        else:
            content = " ".join(rng.choice(WORDS) for _ in range(12))
        finish = "stop"
        if fault == "invalid_json":
            content = "{'critiques': [oops"
        elif fault == "truncated":
            content, finish = content[: max(1, len(content) // 2)], "length"
        elif fault == "schema_violation":
            content = json.dumps({"unexpected": True})
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        return {"id": f"chatcmpl-{plan['requests']}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model") or "synthetic",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "logprobs": choice_logprobs, "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content.split()),
                          "total_tokens": prompt_tokens + len(content.split())}}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*, latency_ms: float = 0.0, faults: list[str] | None = None, script: list[str] | None = None,
                   port: int | None = None, startup_s: float = 30.0, dialect: str = "openai",
                   logprobs: dict[str, Any] | None = None) -> Iterator[str]:
    """Run the server in its own process on 127.0.0.1; yields the base URL (…/v1); stops it afterwards.
    `logprobs`: the LogprobPlan as a dict (mode, labels, bias, spread)."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "gauntlet.testing.synthetic_server", "--port", str(port), "--latency-ms", str(latency_ms)]
    if faults:
        cmd += ["--faults", ",".join(faults)]
    if dialect != "openai":
        cmd += ["--dialect", dialect]
    env = dict(os.environ)
    if script:
        env["GAUNTLET_SYNTHETIC_SCRIPT"] = json.dumps(script)
    if logprobs:
        env["GAUNTLET_SYNTHETIC_LOGPROBS"] = json.dumps(logprobs)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"synthetic server exited: {proc.stderr.read().decode()[-500:]}")
            try:
                if httpx.get(base + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("synthetic server did not start")
            time.sleep(0.1)
        yield base + "/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8011)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--faults", default="", help=f"comma-separated, applied to the first requests: {FAULTS}")
    ap.add_argument("--dialect", default="openai", choices=DIALECTS,
                    help="llamacpp: refuse json_schema response formats as llama-cpp-python's server does; "
                         "vllm: take grammars in structured_outputs; openai: refuse grammars")
    ap.add_argument("--logprobs", default="", choices=("",) + MODES,
                    help="hash: deterministic logprobs (default); none: ignore logprobs requests; refuse: HTTP 400")
    args = ap.parse_args(argv)
    faults = [f for f in args.faults.split(",") if f]
    bad = [f for f in faults if f not in FAULTS]
    if bad:
        ap.error(f"unknown faults {bad}; choose from {FAULTS}")
    script = json.loads(os.environ.get("GAUNTLET_SYNTHETIC_SCRIPT", "[]"))
    lp_plan = LogprobPlan.from_json(os.environ.get("GAUNTLET_SYNTHETIC_LOGPROBS", ""))
    if args.logprobs:
        lp_plan.mode = args.logprobs
    import uvicorn
    uvicorn.run(make_app(args.latency_ms, faults, script, args.dialect, lp_plan), host=args.host, port=args.port,
                log_level="warning", backlog=4096, timeout_keep_alive=60)


if __name__ == "__main__":
    main()
