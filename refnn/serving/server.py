"""`refnn serve`: runs the REST and gRPC APIs in one process.

Loads the models first, then listens: gRPC on ``--port`` and REST on
``--rest-api-port``. SIGTERM/SIGINT stop accepting new connections, let the
requests in flight finish (up to ``--shutdown-grace-seconds``) and exit 0.
"""

import logging
import signal
import sys

from refnn.serving.config import configs_from_file, configs_from_paths
from refnn.serving.manager import ModelManager
from refnn.serving.metrics import Metrics
from refnn.serving.service import ModelService

log = logging.getLogger("refnn.serving")


def build_service(args, metrics):
    """The `ModelService` for parsed ``refnn serve`` arguments."""
    if args.model_config_file:
        if args.model_base_dirs:
            raise ValueError(
                "give either MODEL_BASE_DIR arguments or --model-config-file, "
                f"got both ({args.model_base_dirs} and "
                f"{args.model_config_file!r})."
            )
        configs = configs_from_file(args.model_config_file)
    else:
        configs = configs_from_paths(args.model_base_dirs or ["savedmodels"])

    def on_change():
        for name in manager.names():
            metrics.available[name] = len(manager.available_versions(name))

    manager = ModelManager(configs, on_change=on_change)
    batcher = None
    if args.enable_batching:
        from refnn.serving.batching import Batcher

        batcher = Batcher(args.max_batch_size, args.batch_timeout_micros)
    return ModelService(manager, batcher)


def _check_args(args):
    for flag in ("port", "rest_api_port"):
        value = getattr(args, flag)
        if not 0 <= value <= 65535:
            raise ValueError(
                f"--{flag.replace('_', '-')} must be in [0, 65535], "
                f"got {value}."
            )
    if args.max_request_bytes < 0:
        raise ValueError(
            f"--max-request-bytes must be >= 0, got {args.max_request_bytes}."
        )
    if args.max_batch_size < 1:
        raise ValueError(
            f"--max-batch-size must be >= 1, got {args.max_batch_size}."
        )
    if args.batch_timeout_micros < 0:
        raise ValueError(
            "--batch-timeout-micros must be >= 0, got "
            f"{args.batch_timeout_micros}."
        )


def serve(args):
    """Runs until SIGTERM/SIGINT; returns the exit status."""
    import uvicorn

    from refnn.serving.grpc_api import create_grpc_server
    from refnn.serving.rest import create_app

    _check_args(args)
    logging.basicConfig(
        level=logging.INFO if args.access_log else logging.WARNING,
        format="%(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("refnn.serving").setLevel(logging.INFO)
    logging.getLogger("refnn.serving.access").setLevel(
        logging.INFO if args.access_log else logging.WARNING
    )
    metrics = Metrics()
    service = build_service(args, metrics)
    service.manager.poll()
    service.manager.start_polling(args.file_system_poll_wait_seconds)

    grpc_server = None
    if args.port:
        grpc_server, port = create_grpc_server(
            service,
            metrics,
            f"{args.host}:{args.port}",
            max_message_bytes=args.max_request_bytes,
        )
        grpc_server.start()
        print(f"gRPC API at {args.host}:{port}", file=sys.stderr, flush=True)
    app = create_app(service, metrics, args.max_request_bytes)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.rest_api_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=args.shutdown_grace_seconds,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    print(
        f"REST API at http://{args.host}:{args.rest_api_port}",
        file=sys.stderr,
        flush=True,
    )
    # uvicorn handles SIGTERM/SIGINT (stop accepting, finish requests in
    # flight), then re-raises the signal to the handler found at start:
    # make that one a no-op so the gRPC server is stopped gracefully too.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=args.shutdown_grace_seconds).wait()
        service.manager.stop()
        if service.batcher is not None:
            service.batcher.stop()
    print("refnn serve: stopped", file=sys.stderr, flush=True)
    return 0 if server.started else 1
