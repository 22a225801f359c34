"""Export a trained actor to one self-describing ONNX file.

The graph, built with onnx's own helpers (``onnx.helper``, ``onnx.numpy_helper``), is

    obs (batch, obs_size) float32
      -> Sub(mean) -> Div(std) -> Clip(-clip, clip)        the folded observation normaliser
      -> [MatMul(W_i) -> Add(b_i) -> activation] ...       hidden layers
      -> MatMul(W_last) -> Add(b_last)                     deterministic mean action
      -> [Max(low) -> Min(high)]                           optional action bounds (SB3)
    action (batch, action_size) float32

at opset ``OPSET`` (17, the ai.onnx domain only). The model's ``metadata_props`` carry
everything a runner needs (keys in ``REQUIRED_METADATA``), each value JSON-encoded.

This module imports neither JAX nor torch at import time: it reads parameters as NumPy
arrays, so the JAX-free runner (``irondog.agents.onnx_runner``) can use ``read_metadata``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
INPUT_NAME = "obs"
OUTPUT_NAME = "action"
FORMAT_VERSION = 1
ACTIVATIONS = ("relu", "tanh", "elu", "swish", "silu", "sigmoid", "leaky_relu", "identity")

# Metadata keys every irondog policy file carries (values are JSON).
REQUIRED_METADATA = (
    "format_version",
    "observation_layout",  # [{name, size, unit, scale, definition, noise_free}], in order
    "observation_size",
    "action_size",
    "joint_names",
    "default_pose",  # rad, (12,)
    "joint_limits",  # rad, (12, 2)
    "action_scale",  # rad per unit action
    "action_clip",  # actions are clipped to [-action_clip, action_clip] before use
    "kp",  # N m/rad
    "kd",  # N m s/rad
    "torque_limit",  # N m
    "control_dt",  # s
    "sim_dt",  # s
    "command_ranges",  # {"lin_vel_x": [lo, hi], "lin_vel_y": ..., "yaw_rate": ...}
    "robot",
    "irondog_version",
    "training_config_hash",
    "opset",
    "input_name",
    "output_name",
)

# Noise-free definitions of the observation entries written by the joystick task.
OBSERVATION_DEFINITIONS = {
    "local_linvel": "trunk linear velocity in the trunk frame (MJCF velocimeter at site imu)",
    "gyro": "trunk angular velocity in the trunk frame (MJCF gyro at site imu)",
    "gravity": "world gravity direction (0, 0, -1) rotated into the trunk frame",
    "joint_pos": "joint angles minus default_pose, in joint_names order",
    "joint_vel": "joint velocities, in joint_names order",
    "last_action": "the previous policy action after clipping to [-action_clip, action_clip]",
    "command": "commanded vx, vy (trunk frame, m/s) and yaw rate (rad/s)",
    "gait": "commanded gait, gait_fields order (gaits task only)",
    "clock": "sin then cos of 2 pi (phase + foot offset) per foot FR, FL, RR, RL; phase "
    "advances by gait frequency x control_dt after every control step (gaits task only)",
}


class MetadataError(ValueError):
    """A policy file whose metadata is missing or unusable."""


def _float32(array: Any, name: str) -> np.ndarray:
    out = np.asarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        raise ValueError(f"export: {name} holds NaN or infinite values")
    return out


def layers_from_flax(params: Mapping[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(kernel (in, out), bias (out,)), ...] from ``{"params": {"Dense_i": ...}}``, in order."""
    tree = params.get("params", params)
    names = [k for k in tree if re.fullmatch(r"Dense_\d+", k)]
    if not names or len(names) != len(tree):
        raise ValueError(
            f"export: actor params must be {{'params': {{'Dense_0': ..., ...}}}}, got keys "
            f"{sorted(tree)}"
        )
    names.sort(key=lambda k: int(k.split("_")[1]))
    layers = []
    for name in names:
        layer = tree[name]
        kernel = _float32(layer["kernel"], f"{name}.kernel")
        bias = _float32(layer["bias"], f"{name}.bias")
        layers.append((kernel, bias))
    _check_chain(layers)
    return layers


def layers_from_torch(modules: Sequence[Any]) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """Layers and the activation name from a sequence of torch Linear and activation modules."""
    import torch.nn as tnn  # torch only when exporting an SB3 policy

    kinds = {tnn.ReLU: "relu", tnn.Tanh: "tanh", tnn.ELU: "elu", tnn.SiLU: "silu",
             tnn.Sigmoid: "sigmoid", tnn.LeakyReLU: "leaky_relu"}  # fmt: skip
    layers, acts = [], set()
    for module in modules:
        if isinstance(module, tnn.Linear):
            weight = module.weight.detach().cpu().numpy()  # (out, in)
            bias = module.bias.detach().cpu().numpy() if module.bias is not None else None
            if bias is None:
                bias = np.zeros(weight.shape[0], np.float32)
            layers.append((_float32(weight.T, "Linear.weight"), _float32(bias, "Linear.bias")))
        elif type(module) in kinds:
            acts.add(kinds[type(module)])
        elif isinstance(module, tnn.Sequential | tnn.Identity | tnn.Flatten):
            continue
        else:
            raise ValueError(f"export: unsupported torch module {type(module).__name__}")
    if len(acts) > 1:
        raise ValueError(f"export: one activation expected between layers, got {sorted(acts)}")
    _check_chain(layers)
    return layers, (acts.pop() if acts else "identity")


def _check_chain(layers: list[tuple[np.ndarray, np.ndarray]]) -> None:
    for i, (kernel, bias) in enumerate(layers):
        if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):
            raise ValueError(f"export: layer {i} kernel {kernel.shape} and bias {bias.shape}")
        if i and layers[i - 1][0].shape[1] != kernel.shape[0]:
            raise ValueError(
                f"export: layer {i} takes {kernel.shape[0]} inputs but layer {i - 1} gives "
                f"{layers[i - 1][0].shape[1]}"
            )


def _activation_nodes(name: str, x: str, tag: str) -> tuple[list[onnx.NodeProto], str]:
    """Nodes computing ``name``(x); returns (nodes, output name)."""
    out = f"{tag}_act"
    if name == "identity":
        return [], x
    if name == "relu":
        return [helper.make_node("Relu", [x], [out])], out
    if name == "tanh":
        return [helper.make_node("Tanh", [x], [out])], out
    if name == "sigmoid":
        return [helper.make_node("Sigmoid", [x], [out])], out
    if name == "elu":  # flax and torch default alpha = 1
        return [helper.make_node("Elu", [x], [out], alpha=1.0)], out
    if name == "leaky_relu":  # flax and torch default slope = 0.01
        return [helper.make_node("LeakyRelu", [x], [out], alpha=0.01)], out
    if name in ("swish", "silu"):  # x * sigmoid(x)
        sig = f"{tag}_sigmoid"
        return [
            helper.make_node("Sigmoid", [x], [sig]),
            helper.make_node("Mul", [x, sig], [out]),
        ], out
    raise ValueError(f"export: activation {name!r} is not one of {ACTIVATIONS}")


def build_actor_model(
    layers: list[tuple[np.ndarray, np.ndarray]],
    activation: str,
    obs_mean: Any,
    obs_std: Any,
    obs_clip: float,
    metadata: Mapping[str, Any],
    action_low: Any = None,
    action_high: Any = None,
) -> onnx.ModelProto:
    """The ONNX actor with the normaliser folded in and ``metadata`` in metadata_props."""
    _check_chain(layers)
    obs_size, action_size = layers[0][0].shape[0], layers[-1][0].shape[1]
    mean = _float32(obs_mean, "obs_mean").reshape(-1)
    std = _float32(obs_std, "obs_std").reshape(-1)
    if mean.shape != (obs_size,) or std.shape != (obs_size,):
        raise ValueError(
            f"export: normaliser mean {mean.shape} / std {std.shape} do not match the actor's "
            f"input size {obs_size}"
        )
    if (std <= 0).any():
        raise ValueError("export: obs_std must be > 0 everywhere")
    if not obs_clip > 0:
        raise ValueError(f"export: obs_clip must be > 0, got {obs_clip}")
    _activation_nodes(activation, "x", "check")  # unknown names fail before building

    inits = [
        numpy_helper.from_array(mean, "obs_mean"),
        numpy_helper.from_array(std, "obs_std"),
        numpy_helper.from_array(np.float32(-obs_clip), "obs_clip_low"),
        numpy_helper.from_array(np.float32(obs_clip), "obs_clip_high"),
    ]
    nodes = [
        helper.make_node("Sub", [INPUT_NAME, "obs_mean"], ["obs_centred"]),
        helper.make_node("Div", ["obs_centred", "obs_std"], ["obs_scaled"]),
        helper.make_node("Clip", ["obs_scaled", "obs_clip_low", "obs_clip_high"], ["obs_norm"]),
    ]
    x = "obs_norm"
    for i, (kernel, bias) in enumerate(layers):
        last = i == len(layers) - 1
        inits += [numpy_helper.from_array(kernel, f"W{i}"), numpy_helper.from_array(bias, f"b{i}")]
        nodes.append(helper.make_node("MatMul", [x, f"W{i}"], [f"layer{i}_mm"]))
        x = f"layer{i}_out"
        if last and action_low is None:
            x = OUTPUT_NAME
        nodes.append(helper.make_node("Add", [f"layer{i}_mm", f"b{i}"], [x]))
        if not last:
            act_nodes, x = _activation_nodes(activation, x, f"layer{i}")
            nodes += act_nodes
    if action_low is not None:
        low = _float32(np.broadcast_to(action_low, (action_size,)), "action_low")
        high = _float32(np.broadcast_to(action_high, (action_size,)), "action_high")
        inits += [numpy_helper.from_array(low, "action_low"),
                  numpy_helper.from_array(high, "action_high")]  # fmt: skip
        nodes += [
            helper.make_node("Max", [x, "action_low"], ["action_floor"]),
            helper.make_node("Min", ["action_floor", "action_high"], [OUTPUT_NAME]),
        ]

    graph = helper.make_graph(
        nodes,
        "irondog_actor",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", obs_size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", action_size])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="irondog"
    )
    model.ir_version = 8  # readable by onnxruntime 1.14 and later
    meta = {
        **dict(metadata),
        "format_version": FORMAT_VERSION,
        "observation_size": obs_size,
        "action_size": action_size,
        "opset": OPSET,
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "activation": activation,
        "obs_clip": float(obs_clip),
    }
    helper.set_model_props(model, {key: json.dumps(value) for key, value in meta.items()})
    onnx.checker.check_model(model, full_check=True)
    return model


def save(model: onnx.ModelProto, path: str | Path) -> Path:
    """Write the model to ``path`` (parent folders created); if that fails, to a fallback
    file that is reported (``irondog.outputs.write_or_fallback``). Returns the path written."""
    from irondog.outputs import write_or_fallback

    path = Path(path)

    def write(target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(target))

    return write_or_fallback(path, write)


def read_metadata(source: str | Path | onnx.ModelProto) -> dict[str, Any]:
    """The JSON-decoded metadata of a policy file; MetadataError names a missing key."""
    where = "<model>" if isinstance(source, onnx.ModelProto) else str(source)
    if isinstance(source, onnx.ModelProto):
        model = source
    else:
        if not Path(source).is_file():
            raise FileNotFoundError(f"policy file {source} does not exist")
        try:
            model = onnx.load(str(source), load_external_data=False)
        except Exception as err:  # onnx raises DecodeError and others
            raise MetadataError(f"{where}: not a readable ONNX file ({err})") from None
    meta: dict[str, Any] = {}
    for prop in model.metadata_props:
        try:
            meta[prop.key] = json.loads(prop.value)
        except json.JSONDecodeError:
            raise MetadataError(f"{where}: metadata {prop.key!r} is not JSON") from None
    missing = [key for key in REQUIRED_METADATA if key not in meta]
    if missing:
        raise MetadataError(f"{where}: metadata is missing {', '.join(missing)}")
    layout_size = sum(int(item["size"]) for item in meta["observation_layout"])
    if layout_size != meta["observation_size"]:
        raise MetadataError(
            f"{where}: observation_layout sums to {layout_size}, observation_size is "
            f"{meta['observation_size']}"
        )
    if len(meta["joint_names"]) != meta["action_size"] or len(meta["default_pose"]) != len(
        meta["joint_names"]
    ):
        raise MetadataError(f"{where}: joint_names, default_pose and action_size disagree")
    return meta


def config_hash(config_dict: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a training config (first 16 hex digits)."""
    text = json.dumps(config_dict, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def policy_metadata(env_config: Any = None, config_dict: Mapping[str, Any] | None = None) -> dict:
    """Metadata of a CyberDog 2 joystick policy trained with ``env_config`` (an EnvConfig)."""
    from irondog import __version__
    from irondog.envs import task  # imports flax; fine at export time
    from irondog.envs.config import EnvConfig
    from irondog.envs.robot import JOINT_NAMES, ROBOT_NAME, RobotIds, load_model

    cfg = env_config if env_config is not None else EnvConfig()
    variant = task.variant(cfg.task)
    task_name = variant.name
    obs_layout = variant.observation_layout
    ids = RobotIds.from_model(load_model())
    layout = [
        {
            "name": name,
            "size": size,
            "unit": unit,
            "scale": 1.0,  # the observation enters unscaled; the normaliser is in the graph
            "definition": OBSERVATION_DEFINITIONS.get(name, unit),
            "noise_free": True,  # training adds noise (noise field); deployment feeds readings
            "training_noise": noise_field,
        }
        for name, size, unit, noise_field in obs_layout
    ]
    extra: dict[str, Any] = {}
    if variant.gait_commanded:
        from irondog.envs import gaits

        gait_cfg = cfg.gaits
        extra = {
            "gait_fields": list(gaits.GAIT_FIELDS),
            "gait_presets": {name: gaits.preset(name).vector().tolist() for name in gaits.PRESETS},
            "gait_ranges": {k: list(v) for k, v in dataclasses.asdict(gait_cfg.ranges).items()},
            "trained_gaits": list(gait_cfg.presets),
        }
    return {
        "observation_layout": layout,
        "joint_names": list(JOINT_NAMES),
        "default_pose": [float(v) for v in ids.default_pose],
        "joint_limits": [[float(lo), float(hi)] for lo, hi in ids.joint_range],
        "action_scale": float(cfg.action_scale),
        "action_clip": 1.0,
        "kp": float(cfg.kp),
        "kd": float(cfg.kd),
        "torque_limit": float(cfg.motor.torque_limit),
        "control_dt": float(cfg.ctrl_dt),
        "sim_dt": float(cfg.sim_dt),
        "command_ranges": {
            "lin_vel_x": list(cfg.command.lin_vel_x),
            "lin_vel_y": list(cfg.command.lin_vel_y),
            "yaw_rate": list(cfg.command.yaw_rate),
        },
        "robot": ROBOT_NAME,
        "irondog_version": __version__,
        "training_config_hash": config_hash(config_dict) if config_dict is not None else "none",
        "task": task_name,
        **extra,
    }


def export_flax_actor(
    actor_params: Mapping[str, Any],
    activation: str,
    obs_mean: Any,
    obs_std: Any,
    obs_clip: float,
    metadata: Mapping[str, Any],
    path: str | Path,
) -> Path:
    """Export an irondog (flax.linen MLP) actor and its normaliser to ``path``."""
    model = build_actor_model(
        layers_from_flax(actor_params), activation, obs_mean, obs_std, obs_clip, metadata
    )
    return save(model, path)


def export_sb3(
    sb3_model: Any,
    path: str | Path,
    metadata: Mapping[str, Any],
    vec_normalize: Any = None,
) -> Path:
    """Export an SB3 on-policy model's deterministic actor (MlpPolicy, Box actions) to ONNX.

    The action is clipped to the action space, as SB3's ``predict`` does; a VecNormalize
    wrapper, if given, folds in as clip((obs - mean) / sqrt(var + eps), -clip_obs, clip_obs).
    """
    policy = sb3_model.policy
    extractor = policy.features_extractor
    if type(extractor).__name__ != "FlattenExtractor":
        raise ValueError(f"export: SB3 features extractor {type(extractor).__name__} unsupported")
    modules = [*policy.mlp_extractor.policy_net, policy.action_net]
    layers, activation = layers_from_torch(modules)
    obs_size = layers[0][0].shape[0]
    if vec_normalize is not None and getattr(vec_normalize, "norm_obs", False):
        rms = vec_normalize.obs_rms
        mean = np.asarray(rms.mean, np.float64)
        std = np.sqrt(np.asarray(rms.var, np.float64) + vec_normalize.epsilon)
        clip = float(vec_normalize.clip_obs)
    else:
        mean, std, clip = np.zeros(obs_size), np.ones(obs_size), float(np.finfo(np.float32).max)
    space = sb3_model.action_space
    model = build_actor_model(
        layers, activation, mean, std, clip, metadata, action_low=space.low, action_high=space.high
    )
    return save(model, path)


def export_checkpoint(checkpoint_path: str | Path, out: str | Path) -> Path:
    """Export the actor of an irondog training checkpoint (agents/checkpoint.py) to ``out``."""
    from irondog.agents import checkpoint, normalize
    from irondog.agents.config import RunConfig
    from irondog.config import ConfigError, from_dict

    ck = checkpoint.load(checkpoint_path)
    try:
        run_config = from_dict(RunConfig, ck.config, source=f"{ck.path} (config section)")
    except ConfigError as err:
        raise checkpoint.CheckpointError(f"{ck.path}: its config cannot be read ({err})") from None
    state = ck.learner_state
    try:
        actor = state["params"]["actor"]
        norm = state["obs_normalizer"]
        mean, std = norm["mean"], norm["std"]
    except (KeyError, TypeError):
        raise checkpoint.CheckpointError(
            f"{ck.path}: learner has no params.actor or obs_normalizer.mean/std"
        ) from None
    metadata = policy_metadata(run_config.env, ck.config)
    metadata["checkpoint_iteration"] = int(np.asarray(state.get("iteration", -1)))
    metadata["checkpoint_env_steps"] = int(np.asarray(state.get("env_steps", -1)))
    return export_flax_actor(
        actor, run_config.train.activation, mean, std, normalize.CLIP, metadata, out
    )


def export_random(run_config: Any, out: str | Path, seed: int = 0) -> Path:
    """Export an untrained actor of ``run_config``'s shape (to try the pipeline end to end)."""
    import jax

    from irondog.agents.networks import MLP
    from irondog.config import to_dict
    from irondog.envs.robot import NUM_JOINTS

    metadata = policy_metadata(run_config.env, to_dict(run_config))
    metadata["untrained"] = True
    obs_size = sum(int(item["size"]) for item in metadata["observation_layout"])
    actor = MLP((*run_config.train.actor_hidden, NUM_JOINTS), run_config.train.activation, 0.01)
    params = actor.init(jax.random.PRNGKey(seed), np.zeros((1, obs_size), np.float32))
    params = jax.tree.map(np.asarray, params)
    ones = np.ones(obs_size)
    return export_flax_actor(
        params, run_config.train.activation, ones * 0.0, ones, 5.0, metadata, out
    )


def export_sb3_file(
    model_path: str | Path,
    out: str | Path,
    vecnormalize_path: str | Path | None = None,
    run_config: Any = None,
) -> Path:
    """Export an SB3 PPO/A2C ``.zip`` (trained on the irondog env) with its VecNormalize file.

    The metadata describes the irondog joystick task of ``run_config`` (default RunConfig()).
    Both files are unpickled by SB3: load only files you trust.
    """
    import pickle

    from stable_baselines3 import A2C, PPO

    from irondog.agents.config import RunConfig
    from irondog.config import to_dict

    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"SB3 model {model_path} does not exist")
    model = None
    for algo in (PPO, A2C):
        try:
            model = algo.load(str(model_path), device="cpu")
            break
        except Exception:  # SB3 raises several types for another algorithm's file
            continue
    if model is None:
        raise ValueError(f"{model_path}: not an SB3 PPO or A2C model file")
    vec_normalize = None
    if vecnormalize_path is not None:
        with open(vecnormalize_path, "rb") as f:
            vec_normalize = pickle.load(f)  # SB3's VecNormalize.load does the same
    run_config = run_config if run_config is not None else RunConfig()
    metadata = policy_metadata(run_config.env, to_dict(run_config))
    obs_size = sum(item["size"] for item in metadata["observation_layout"])
    got = model.observation_space.shape
    if got != (obs_size,) or model.action_space.shape != (len(metadata["joint_names"]),):
        raise ValueError(
            f"{model_path}: observation {got} / action {model.action_space.shape} spaces do not "
            f"match the irondog task ({obs_size},) / ({len(metadata['joint_names'])},)"
        )
    return export_sb3(model, out, metadata, vec_normalize)


def scripted_trot(
    out: str | Path, hip_amplitude: float = 0.6, knee_lift: float = 1.0, env_config: Any = None
) -> Path:
    """A hand-written open-loop gait as a gait-task policy file (no training; for testing).

    Two ReLU layers over the gait clock features only: hip = -hip_amplitude cos(2 pi p) sweeps
    each foot back during stance and forward during swing, and the knee folds by
    knee_lift relu(-sin(2 pi p)) during swing (actions, in units of action_scale). With the
    trot preset the CyberDog 2 model walks forward at about 0.2 m/s. It ignores every other
    observation, so it cannot balance against pushes or follow velocity commands.
    """
    from irondog.envs.config import EnvConfig

    cfg = env_config if env_config is not None else EnvConfig(task="gaits")
    from irondog.envs import task

    if not task.variant(cfg.task).gait_commanded:
        raise ValueError("scripted_trot needs the gaits task (it reads the gait clock)")
    metadata = policy_metadata(cfg)
    metadata["scripted"] = "open-loop trot, not a trained policy"
    names = [item["name"] for item in metadata["observation_layout"]]
    sizes = [int(item["size"]) for item in metadata["observation_layout"]]
    obs_size = sum(sizes)
    clock = sum(sizes[: names.index("clock")])  # sin of the 4 feet, then cos
    kernel1 = np.zeros((obs_size, 12), np.float32)  # hidden: relu(-sin), relu(cos), relu(-cos)
    kernel2 = np.zeros((12, 12), np.float32)
    for leg in range(4):
        kernel1[clock + leg, leg] = -1.0
        kernel1[clock + 4 + leg, 4 + leg] = 1.0
        kernel1[clock + 4 + leg, 8 + leg] = -1.0
        hip, knee = 3 * leg + 1, 3 * leg + 2
        kernel2[4 + leg, hip] = -hip_amplitude  # -A relu(cos) + A relu(-cos) = -A cos
        kernel2[8 + leg, hip] = hip_amplitude
        kernel2[leg, knee] = -knee_lift  # fold (more negative knee angle) in swing
    layers = [(kernel1, np.zeros(12, np.float32)), (kernel2, np.zeros(12, np.float32))]
    zeros, ones = np.zeros(obs_size), np.ones(obs_size)
    return save(build_actor_model(layers, "relu", zeros, ones, 5.0, metadata), out)
