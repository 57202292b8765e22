"""Which models to serve: folders on the command line or a config file.

The config file is TF Serving's own ``--model_config_file`` format (a
``ModelServerConfig`` in protobuf text format), e.g.::

    model_config_list {
      config {
        name: "mlp_digits"
        base_path: "savedmodels/mlp_digits"
        model_platform: "tensorflow"
        model_version_policy { latest { num_versions: 2 } }
        version_labels { key: "stable" value: 1 }
      }
    }

``model_version_policy`` is ``latest { num_versions: N }`` (default N=1),
``all {}`` or ``specific { versions: 1 versions: 3 }``. A relative
``base_path`` is relative to the config file's folder.
"""

from pathlib import Path

from refnn.serving.manager import ModelConfig, versions_on_disk


def configs_from_paths(paths):
    """One `ModelConfig` per model folder.

    Each path is either a model folder (holding version folders ``1/``,
    ``2/``: served under the folder's name) or a folder of model folders
    (``savedmodels/``: each subfolder with versions is a model).

    Raises:
        ValueError: a path that does not exist or holds no model.

    Example:

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> base = Path(tempfile.mkdtemp())
    >>> for version in ("mlp/1", "mlp/2", "gpt/1"):
    ...     (base / version).mkdir(parents=True)
    >>> [(c.name, c.policy) for c in configs_from_paths([base])]
    [('gpt', ('latest', 1)), ('mlp', ('latest', 1))]
    >>> [c.name for c in configs_from_paths([base / "mlp"])]
    ['mlp']
    >>> shutil.rmtree(base)
    """
    configs = []
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            raise ValueError(f"MODEL_BASE_DIR {str(path)!r} is not a folder.")
        if versions_on_disk(path):
            configs.append(ModelConfig(path.resolve().name, path))
            continue
        found = [
            ModelConfig(p.name, p)
            for p in sorted(path.iterdir())
            if p.is_dir() and versions_on_disk(p)
        ]
        if not found:
            raise ValueError(
                f"MODEL_BASE_DIR {str(path)!r} holds no model: expected "
                "version folders (1/, 2/, ...) or model folders holding them."
            )
        configs.extend(found)
    return configs


def configs_from_file(path):
    """`ModelConfig`s from a TF Serving ``--model_config_file``.

    Raises:
        ValueError: the file is missing or not a valid ModelServerConfig.

    Example:

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "models.config").write_text('''
    ... model_config_list {
    ...   config {
    ...     name: "mlp" base_path: "savedmodels/mlp"
    ...     model_version_policy { latest { num_versions: 2 } }
    ...     version_labels { key: "stable" value: 1 }
    ...   }
    ... }''')
    >>> (config,) = configs_from_file(folder / "models.config")
    >>> config.name, config.policy, config.labels
    ('mlp', ('latest', 2), {'stable': 1})
    >>> config.base_path == folder / "savedmodels/mlp"  # relative to the file
    True
    >>> shutil.rmtree(folder)
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--model-config-file {str(path)!r} not found.")
    message = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(path.read_text(encoding="utf-8"), message)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise ValueError(
            f"--model-config-file {str(path)!r} is not a valid "
            f"ModelServerConfig: {e}"
        ) from None
    configs = []
    for c in message.model_config_list.config:
        if not c.name or not c.base_path:
            raise ValueError(
                f"--model-config-file {str(path)!r}: every config needs a "
                f"name and a base_path, got {text_format.MessageToString(c)!r}"
            )
        if c.model_platform not in ("", "tensorflow"):
            raise ValueError(
                f"model {c.name!r}: model_platform must be 'tensorflow', "
                f"got {c.model_platform!r}"
            )
        base = Path(c.base_path)
        if not base.is_absolute():
            base = path.parent / base
        policy = ("latest", 1)
        kind = c.model_version_policy.WhichOneof("policy_choice")
        if kind == "all":
            policy = ("all",)
        elif kind == "specific":
            versions = set(c.model_version_policy.specific.versions)
            if not versions:
                raise ValueError(
                    f"model {c.name!r}: a specific version policy needs "
                    "at least one version"
                )
            policy = ("specific", versions)
        elif kind == "latest":
            policy = (
                "latest",
                max(1, c.model_version_policy.latest.num_versions),
            )
        configs.append(
            ModelConfig(c.name, base, policy, dict(c.version_labels))
        )
    if not configs:
        raise ValueError(
            f"--model-config-file {str(path)!r} lists no model "
            "(model_config_list { config { ... } })."
        )
    return configs
