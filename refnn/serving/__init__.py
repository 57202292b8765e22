"""refnn.serving: ``refnn serve``, TF Serving's REST and gRPC APIs.

* `contract`: the REST predict JSON <-> arrays, TF Serving's rules and
  error texts (numpy only; shared with ``refnn predict``).
* `manager`: model folders -> loaded versions (version policy, hot reload,
  failed versions reported).
* `service`: predict / status / metadata for both APIs.
* `rest` (FastAPI + uvicorn), `grpc_api` (grpcio + tensorflow-serving-api),
  `batching`, `metrics`, `server` (the process).
"""
