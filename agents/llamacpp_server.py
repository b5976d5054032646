"""`python -m gauntlet.agents.llamacpp_server [llama_cpp.server arguments]`: llama-cpp-python's OpenAI-compatible
server, started the way Gauntlet starts every llama.cpp model: with the load parameters agents/llama_runtime.py
chooses for this CPU (no AMX weight repack, whose kernel crashes on Sapphire Rapids and later). The server's own
`python -m llama_cpp.server` has no flag for that, so launches (`model.launch_engine: llama.cpp`,
`sweep --share-model`) run this module instead; it takes the same arguments.
"""

from __future__ import annotations

import sys

from gauntlet.agents import llama_runtime
from gauntlet.errors import InputError


def main(argv: list[str] | None = None) -> None:
    try:
        params = llama_runtime.current_params()
    except InputError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        raise SystemExit(2) from None
    llama_runtime.apply(params)
    print(f"gauntlet: llama.cpp model load: {params.reason}", file=sys.stderr, flush=True)
    from llama_cpp.server.__main__ import main as serve  # noqa: PLC0415 - after the parameters are in place

    sys.argv = ["python -m gauntlet.agents.llamacpp_server", *(sys.argv[1:] if argv is None else argv)]
    serve()


if __name__ == "__main__":
    main()
