"""An OpenAI-compatible chat API for the digital self, for bot frameworks (AstrBot, LangBot, NapCat-based bots).

One HTTP front on the standard library (ThreadingHTTPServer) for the llama.cpp and transformers engines, so
auth, errors, limits and the persona behave the same on both: GET /v1/models, POST /v1/chat/completions
(streamed as server-sent events or not). One model, so generation is serialised by one lock; requests beyond
the concurrency bound (in flight + waiting) are answered 429 at once. Hostile clients are bounded too: open
connections are capped (503 beyond), a request must arrive whole within the request timeout however slowly it
trickles, and a client that hangs up costs one debug line, not a traceback. The vLLM engine is vLLM's own server,
started as a subprocess with the run's adapter, system prompt (in its chat template) and the key in its
environment. Chat text and the key never reach a log above DEBUG.

The package's parts import downwards, never in a circle: engine (what to serve, which engine), api_requests
(parsing and checking a request) <- backend (the model behind one lock) <- http_front (the HTTP server); vllm
(the vLLM subprocess) <- engine; and this module, the command (serve), on top of them all. Every name the CLI,
the tests and the bench use as serve.X is importable from here.
"""

from __future__ import annotations

from typing import Callable

from qing.errors import QingError
from qing.i18n import _
from qing.model.options import ENGINES, ServeOptions
from qing.model.serve.api_requests import CHECKED, IGNORED, MAX_STOPS, ROLES, ApiError, ChatRequest, parse_request
from qing.model.serve.backend import Backend
from qing.model.serve.engine import Source, choose_engine
from qing.model.serve.http_front import (
    MAX_BODY,
    Handler,
    Server,
    bind,
    is_loopback,
    run_forever,
    start,
    url,
)
from qing.model.serve.vllm import LORA_RANKS, _vllm_persona, persona_template, serve_vllm, vllm_command

__all__ = [
    "CHECKED", "ENGINES", "IGNORED", "LORA_RANKS", "MAX_BODY", "MAX_STOPS", "ROLES", "ApiError", "Backend",
    "ChatRequest", "Handler", "Server", "ServeOptions", "Source", "bind", "choose_engine", "is_loopback",
    "parse_request", "persona_template", "run_forever", "serve", "serve_vllm", "start", "url", "vllm_command",
]


def serve(src: Source, engine: str, opts: ServeOptions, defaults, note: Callable[[str], None],
          warn: Callable[[str], None], on_request: Callable | None = None,
          before_transformers: Callable[[], None] = lambda: None) -> None:
    """Choose the engine, load the model, and serve until Ctrl+C. DEFAULTS: InferOptions requests start from."""
    engine, why = choose_engine(engine, src)
    if engine != "llama.cpp":
        before_transformers()
    note(_("engine: {engine} ({why})").format(engine=engine, why=why))
    if not is_loopback(opts.host) and not opts.api_key:
        warn(_("listening on {host} with no API key: anyone who can reach this port can chat with your digital "
               "self; set --api-key or QING_SERVE_API_KEY.").format(host=opts.host))
    name = opts.model_name or src.name()
    if engine == "vllm":
        system, template = _vllm_persona(src, defaults.system_prompt)
        status = serve_vllm(src, opts, name, system, template, note)
        if status not in (0, 130, -2):
            raise QingError(_("vLLM stopped with exit status {status}; its own messages above say why.").format(
                status=status))
        return
    from qing.model import infer

    server = bind(opts.host, opts.port)
    try:
        if engine == "llama.cpp":
            cm = infer.load(gguf=src.gguf, opts=defaults, gpu_layers=opts.gpu_layers)
        else:
            cm = infer.load(src.run_dir, src.model, src.adapter, src.merged, defaults)
    except BaseException:
        server.server_close()
        raise
    start(cm, defaults, opts, name, on_request, server)
    key = _("API key required") if opts.api_key else _("no API key")
    system = _("system prompt: the run's") if cm.system_prompt else _("no system prompt")
    note(_("serving {model} as model {name!r} at {url} ({key}; at most {concurrency} requests at once, {connections} "
           "connections open; {system})").format(model=cm.description, name=name, url=url(server), key=key,
                                                 concurrency=opts.max_concurrency, connections=opts.max_connections,
                                                 system=system))
    note(_("Ctrl+C stops it."))
    run_forever(server)
