"""The voice command schema: typed actions, their canonical text and JSON forms, and the
mapping onto the timed joystick-command sequence the locomotion policy consumes.

A spoken utterance becomes a ``Command``: a sequence of actions joined by "then". Each action
is one of

- ``Move``: planar velocity (vx, vy in m/s) and yaw rate (rad/s) at the nominal speed, bounded
  by at most one of duration (s), distance (m) or angle (deg);
- ``Gait``: walk, trot, pace, bound or pronk (the gait presets of ``envs/gaits.py``; carried in
  every later segment for the gait controller);
- ``Speed``: up or down, scaling the velocities of later moves, or set: later moves at a
  spoken speed ("at one metre per second": a forward move at 1 m/s, the others in proportion);
- ``Posture``: sit, stand, lie_down;
- ``Stop``: stop, or emergency stop (which drops the rest of the sequence);
- ``ComeHere``.

"turn around" is ``Move(yaw_rate=+nominal, angle_deg=180)``; phrasings that mean the same
thing have the same schema, so exact-schema accuracy compares meanings, not words.

Canonical text (what the language models emit; ``parse_canonical`` reads it back)::

    command := action ( " then " action )*
    action  := "move" DIR [ NUM ("m" | "s") ] | "turn" ("left" | "right") [ NUM ("deg" | "s") ]
             | "turn around" | "gait" GAIT | "speed up" | "slow down" | "speed" NUM "mps"
             | "sit" | "stand" | "lie down" | "stop" | "emergency stop" | "come here"
    DIR     := "forward" | "backward" | "left" | "right"
    GAIT    := "walk" | "trot" | "pace" | "bound" | "pronk"

Canonical JSON (``to_json``; one object per command)::

    {"actions": [{"action": "move", "vx": 0.5, "vy": 0.0, "yaw_rate": 0.0,
                  "distance_m": 2.0}, {"action": "gait", "gait": "trot"}, ...]}

Bounds not given are left out; numbers are rounded to 3 decimals.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from irondog.config import check

GAITS = ("walk", "trot", "pace", "bound", "pronk")  # envs/gaits.py PRESETS
POSTURES = ("sit", "stand", "lie_down")
DIRECTIONS = ("forward", "backward", "left", "right")

# Nominal speeds of a spoken move, before "speed up"/"slow down" (m/s, rad/s).
NOMINAL_FORWARD = 0.5
NOMINAL_BACKWARD = 0.3
NOMINAL_LATERAL = 0.3
NOMINAL_YAW = 0.8

# Quantities the canonical token language (and so the trained decoder) can name.
DISTANCES_M = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0)
DURATIONS_S = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0, 30.0)
ANGLES_DEG = (15.0, 30.0, 45.0, 60.0, 90.0, 120.0, 135.0, 180.0, 270.0, 360.0)


class CommandError(ValueError):
    """Text or JSON that is not a command in the schema."""


def _num(x: float) -> float:
    return round(float(x), 3) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclasses.dataclass(frozen=True)
class Move:
    """Move at (vx, vy, yaw_rate), bounded by at most one of duration, distance or angle."""

    vx: float = 0.0  # m/s, forward positive
    vy: float = 0.0  # m/s, left positive
    yaw_rate: float = 0.0  # rad/s, counter-clockwise (left) positive
    duration_s: float | None = None
    distance_m: float | None = None
    angle_deg: float | None = None

    def __post_init__(self) -> None:
        for name in ("vx", "vy", "yaw_rate"):
            check(math.isfinite(getattr(self, name)), name, "must be finite")
        check(
            any(v != 0.0 for v in (self.vx, self.vy, self.yaw_rate)),
            "move",
            "needs a non-zero velocity",
        )
        bounds = [b for b in (self.duration_s, self.distance_m, self.angle_deg) if b is not None]
        check(len(bounds) <= 1, "move", "give at most one of duration_s, distance_m, angle_deg")
        for b in bounds:
            check(math.isfinite(b) and b > 0, "move", f"bound must be finite and > 0, got {b}")
        check(
            self.distance_m is None or (self.vx, self.vy) != (0.0, 0.0),
            "distance_m",
            "needs a planar velocity",
        )
        check(self.angle_deg is None or self.yaw_rate != 0.0, "angle_deg", "needs a yaw rate")


@dataclasses.dataclass(frozen=True)
class Gait:
    """Switch gait."""

    gait: Literal["walk", "trot", "pace", "bound", "pronk"]

    def __post_init__(self) -> None:
        check(self.gait in GAITS, "gait", f"must be one of {GAITS}, got {self.gait!r}")


@dataclasses.dataclass(frozen=True)
class Speed:
    """Speed up or slow down later moves, or set their speed (``mps``: a forward move's m/s;
    the other directions keep their proportion to it)."""

    change: Literal["up", "down", "set"]
    mps: float | None = None  # m/s, only for "set"

    def __post_init__(self) -> None:
        check(self.change in ("up", "down", "set"), "change",
              f"must be up, down or set, got {self.change!r}")  # fmt: skip
        if self.change == "set":
            check(self.mps is not None and math.isfinite(self.mps) and self.mps > 0, "mps",
                  f"a set speed needs a finite speed > 0 m/s, got {self.mps!r}")  # fmt: skip
        else:
            check(self.mps is None, "mps", "is only given with change 'set'")


@dataclasses.dataclass(frozen=True)
class Posture:
    """Sit, stand or lie down."""

    posture: Literal["sit", "stand", "lie_down"]

    def __post_init__(self) -> None:
        check(self.posture in POSTURES, "posture", f"must be one of {POSTURES}")


@dataclasses.dataclass(frozen=True)
class Stop:
    """Stop (hold still); an emergency stop also drops the rest of the sequence."""

    emergency: bool = False


@dataclasses.dataclass(frozen=True)
class ComeHere:
    """Walk towards the speaker (forward, without direction finding)."""


Action = Move | Gait | Speed | Posture | Stop | ComeHere


@dataclasses.dataclass(frozen=True)
class Command:
    """A sequence of actions, done in order."""

    actions: tuple[Action, ...]

    def __post_init__(self) -> None:
        check(len(self.actions) >= 1, "actions", "a command needs at least one action")


# ---------------------------------------------------------------------------------------------
# Constructors for the spoken forms.


def move(direction: str, amount: float | None = None, unit: str | None = None) -> Move:
    """A move in a named direction at nominal speed; unit is "m" or "s" (or None)."""
    check(direction in DIRECTIONS, "direction", f"must be one of {DIRECTIONS}")
    vx, vy = {
        "forward": (NOMINAL_FORWARD, 0.0),
        "backward": (-NOMINAL_BACKWARD, 0.0),
        "left": (0.0, NOMINAL_LATERAL),
        "right": (0.0, -NOMINAL_LATERAL),
    }[direction]
    if amount is None:
        return Move(vx=vx, vy=vy)
    check(unit in ("m", "s"), "unit", f"a move is bounded in m or s, got {unit!r}")
    if unit == "m":
        return Move(vx=vx, vy=vy, distance_m=float(amount))
    return Move(vx=vx, vy=vy, duration_s=float(amount))


def turn(direction: str, amount: float | None = None, unit: str | None = None) -> Move:
    """A turn on the spot; unit is "deg" or "s" (or None)."""
    check(direction in ("left", "right"), "direction", "a turn is left or right")
    yaw = NOMINAL_YAW if direction == "left" else -NOMINAL_YAW
    if amount is None:
        return Move(yaw_rate=yaw)
    check(unit in ("deg", "s"), "unit", f"a turn is bounded in deg or s, got {unit!r}")
    if unit == "deg":
        return Move(yaw_rate=yaw, angle_deg=float(amount))
    return Move(yaw_rate=yaw, duration_s=float(amount))


# ---------------------------------------------------------------------------------------------
# Canonical text.


def _fmt(x: float) -> str:
    return f"{x:g}"


def action_text(action: Action) -> str:
    """Canonical text of one action."""
    if isinstance(action, Move):
        if action.vx == 0.0 and action.vy == 0.0:
            head = "turn " + ("left" if action.yaw_rate > 0 else "right")
            if action.angle_deg is not None:
                return f"{head} {_fmt(action.angle_deg)} deg"
        elif action.yaw_rate == 0.0 and (action.vx == 0.0 or action.vy == 0.0):
            if action.vx > 0:
                head = "move forward"
            elif action.vx < 0:
                head = "move backward"
            else:
                head = "move left" if action.vy > 0 else "move right"
            if action.distance_m is not None:
                return f"{head} {_fmt(action.distance_m)} m"
        else:
            raise CommandError(f"move {action} has no canonical text (combined velocities)")
        if action.duration_s is not None:
            return f"{head} {_fmt(action.duration_s)} s"
        return head
    if isinstance(action, Gait):
        return f"gait {action.gait}"
    if isinstance(action, Speed):
        if action.change == "set":
            return f"speed {_fmt(action.mps)} mps"
        return "speed up" if action.change == "up" else "slow down"
    if isinstance(action, Posture):
        return action.posture.replace("_", " ")
    if isinstance(action, Stop):
        return "emergency stop" if action.emergency else "stop"
    if isinstance(action, ComeHere):
        return "come here"
    raise CommandError(f"not an action: {action!r}")


def to_text(command: Command) -> str:
    """Canonical text of a command (parse_canonical reads it back)."""
    return " then ".join(action_text(a) for a in command.actions)


_FIXED: dict[tuple[str, ...], Action] = {
    ("turn", "around"): Move(yaw_rate=NOMINAL_YAW, angle_deg=180.0),
    ("speed", "up"): Speed("up"),
    ("slow", "down"): Speed("down"),
    ("sit",): Posture("sit"),
    ("stand",): Posture("stand"),
    ("lie", "down"): Posture("lie_down"),
    ("stop",): Stop(False),
    ("emergency", "stop"): Stop(True),
    ("come", "here"): ComeHere(),
}


def _parse_number(word: str, text: str) -> float:
    try:
        value = float(word)
    except ValueError:
        raise CommandError(f"{word!r} is not a number in {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise CommandError(f"{word!r} must be a positive number in {text!r}")
    return value


def _parse_action(words: list[str], text: str) -> Action:
    key = tuple(words)
    if key in _FIXED:
        return _FIXED[key]
    if len(words) == 3 and words[0] == "speed" and words[2] == "mps":
        return Speed("set", _parse_number(words[1], text))
    if len(words) == 2 and words[0] == "gait" and words[1] in GAITS:
        return Gait(words[1])  # type: ignore[arg-type]
    if words and words[0] in ("move", "turn"):
        ok_dirs = DIRECTIONS if words[0] == "move" else ("left", "right")
        ok_units = ("m", "s") if words[0] == "move" else ("deg", "s")
        if len(words) not in (2, 4) or words[1] not in ok_dirs:
            raise CommandError(f"cannot read {' '.join(words)!r} in {text!r}")
        amount = unit = None
        if len(words) == 4:
            amount = _parse_number(words[2], text)
            unit = words[3]
            if unit not in ok_units:
                raise CommandError(f"unit {unit!r} must be one of {ok_units} in {text!r}")
        make = move if words[0] == "move" else turn
        try:
            return make(words[1], amount, unit)
        except ValueError as err:
            raise CommandError(f"{err} in {text!r}") from None
    raise CommandError(f"cannot read {' '.join(words)!r} in {text!r}")


def parse_canonical(text: str) -> Command:
    """Read canonical text; raise CommandError naming the part that does not fit."""
    words = text.strip().lower().split()
    if not words:
        raise CommandError("empty command text")
    parts: list[list[str]] = [[]]
    for w in words:
        if w == "then":
            parts.append([])
        else:
            parts[-1].append(w)
    if any(not p for p in parts):
        raise CommandError(f"'then' needs an action on both sides in {text!r}")
    return Command(tuple(_parse_action(p, text) for p in parts))


# ---------------------------------------------------------------------------------------------
# Canonical JSON.


def action_to_dict(action: Action) -> dict[str, Any]:
    """JSON-ready dict of one action (documented form in the module docstring)."""
    if isinstance(action, Move):
        out: dict[str, Any] = {
            "action": "move",
            "vx": _num(action.vx),
            "vy": _num(action.vy),
            "yaw_rate": _num(action.yaw_rate),
        }
        for name in ("duration_s", "distance_m", "angle_deg"):
            value = getattr(action, name)
            if value is not None:
                out[name] = _num(value)
        return out
    if isinstance(action, Gait):
        return {"action": "gait", "gait": action.gait}
    if isinstance(action, Speed):
        if action.change == "set":
            return {"action": "speed", "change": "set", "mps": _num(action.mps)}
        return {"action": "speed", "change": action.change}
    if isinstance(action, Posture):
        return {"action": "posture", "posture": action.posture}
    if isinstance(action, Stop):
        return {"action": "stop", "emergency": action.emergency}
    if isinstance(action, ComeHere):
        return {"action": "come_here"}
    raise CommandError(f"not an action: {action!r}")


def to_dict(command: Command) -> dict[str, Any]:
    """JSON-ready dict of a command."""
    return {"actions": [action_to_dict(a) for a in command.actions]}


def to_json(command: Command) -> str:
    """Canonical JSON string (sorted keys, no spaces) of a command."""
    return json.dumps(to_dict(command), sort_keys=True, separators=(",", ":"))


_KEYS = {
    "move": {"action", "vx", "vy", "yaw_rate", "duration_s", "distance_m", "angle_deg"},
    "gait": {"action", "gait"},
    "speed": {"action", "change", "mps"},
    "posture": {"action", "posture"},
    "stop": {"action", "emergency"},
    "come_here": {"action"},
}


def action_from_dict(data: dict[str, Any], where: str = "action") -> Action:
    """Rebuild an action from its dict, strictly (unknown keys are errors)."""
    if not isinstance(data, dict) or "action" not in data:
        raise CommandError(f"{where}: expected an object with an 'action' key, got {data!r}")
    kind = data["action"]
    if kind not in _KEYS:
        raise CommandError(f"{where}.action: unknown action {kind!r}")
    extra = set(data) - _KEYS[kind]
    if extra:
        raise CommandError(f"{where}: unknown key(s) {sorted(extra)} for action {kind!r}")
    fields = {k: v for k, v in data.items() if k != "action"}
    try:
        if kind == "move":
            for k, v in fields.items():
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise CommandError(f"{where}.{k}: expected a number, got {v!r}")
            return Move(**{k: float(v) for k, v in fields.items()})
        if kind == "gait":
            return Gait(fields.get("gait"))  # type: ignore[arg-type]
        if kind == "speed":
            mps = fields.get("mps")
            if mps is not None and (isinstance(mps, bool) or not isinstance(mps, int | float)):
                raise CommandError(f"{where}.mps: expected a number, got {mps!r}")
            return Speed(fields.get("change"), None if mps is None else float(mps))  # type: ignore[arg-type]
        if kind == "posture":
            return Posture(fields.get("posture"))  # type: ignore[arg-type]
        if kind == "stop":
            emergency = fields.get("emergency", False)
            if not isinstance(emergency, bool):
                raise CommandError(f"{where}.emergency: expected true or false")
            return Stop(emergency)
        return ComeHere()
    except CommandError:
        raise
    except (ValueError, TypeError) as err:
        raise CommandError(f"{where}: {err}") from None


def from_dict(data: dict[str, Any]) -> Command:
    """Rebuild a command from ``to_dict`` output, strictly."""
    if not isinstance(data, dict) or set(data) != {"actions"}:
        raise CommandError(f"expected {{'actions': [...]}}, got {data!r}")
    actions = data["actions"]
    if not isinstance(actions, list) or not actions:
        raise CommandError("actions: expected a non-empty list")
    return Command(tuple(action_from_dict(a, f"actions[{i}]") for i, a in enumerate(actions)))


def from_json(text: str) -> Command:
    """Rebuild a command from its JSON string."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CommandError(f"not valid JSON: {err}") from None
    return from_dict(data)


# ---------------------------------------------------------------------------------------------
# Mapping to the timed joystick-command sequence.


class Segment(NamedTuple):
    """One piece of the joystick sequence: hold (vx, vy, yaw_rate) for duration_s."""

    duration_s: float  # s
    vx: float  # m/s
    vy: float  # m/s
    yaw_rate: float  # rad/s
    extra: dict[str, Any]  # gait, posture, stop flags, source action


@dataclasses.dataclass(frozen=True)
class JoystickLimits:
    """Command ranges of the environment (irondog.envs.config.CommandConfig defaults)."""

    lin_vel_x: tuple[float, float] = (-1.0, 1.5)  # m/s
    lin_vel_y: tuple[float, float] = (-0.8, 0.8)  # m/s
    yaw_rate: tuple[float, float] = (-1.2, 1.2)  # rad/s
    default_move_s: float = 3.0  # s, a move with no bound
    default_turn_deg: float = 90.0  # deg, a bare "turn left/right": a quarter turn
    posture_s: float = 2.0  # s, time given to sit / stand / lie down
    stop_s: float = 1.0  # s, hold still after stop
    come_here_s: float = 4.0  # s, forward walk for "come here"
    speed_step: float = 1.5  # factor per "speed up" (1/factor per "slow down")
    speed_factor_range: tuple[float, float] = (0.25, 3.0)

    def __post_init__(self) -> None:
        for name in ("lin_vel_x", "lin_vel_y", "yaw_rate", "speed_factor_range"):
            lo, hi = getattr(self, name)
            check(lo <= hi, name, f"lower bound {lo} exceeds upper {hi}")
        for name in ("default_move_s", "default_turn_deg", "posture_s", "stop_s", "come_here_s"):
            check(getattr(self, name) > 0, name, "must be > 0")
        check(self.speed_step > 1.0, "speed_step", "must be > 1")

    @classmethod
    def from_env(cls, command_config: Any, **kwargs: Any) -> JoystickLimits:
        """Take the ranges from an ``irondog.envs.config.CommandConfig``."""
        return cls(
            lin_vel_x=tuple(command_config.lin_vel_x),
            lin_vel_y=tuple(command_config.lin_vel_y),
            yaw_rate=tuple(command_config.yaw_rate),
            **kwargs,
        )


@dataclasses.dataclass(frozen=True)
class JoystickState:
    """What carries over between actions and commands: gait and speed factor."""

    gait: str = "trot"
    speed_factor: float = 1.0


def _clip(x: float, bounds: tuple[float, float]) -> float:
    return min(max(x, bounds[0]), bounds[1])


def plan(
    command: Command,
    state: JoystickState | None = None,
    limits: JoystickLimits | None = None,
) -> tuple[list[Segment], JoystickState]:
    """Map a command onto timed joystick segments; returns them and the state after."""
    state = state if state is not None else JoystickState()
    limits = limits if limits is not None else JoystickLimits()
    segments: list[Segment] = []
    for index, action in enumerate(command.actions):
        base = {"gait": state.gait, "action": index, "text": action_text_safe(action)}
        if isinstance(action, Move):
            f = state.speed_factor
            vx = _clip(action.vx * f, limits.lin_vel_x)  # m/s
            vy = _clip(action.vy * f, limits.lin_vel_y)  # m/s
            yaw = _clip(action.yaw_rate * f, limits.yaw_rate)  # rad/s
            if action.duration_s is not None:
                duration = action.duration_s
            elif action.distance_m is not None:
                duration = action.distance_m / math.hypot(vx, vy)
            elif action.angle_deg is not None:
                duration = math.radians(action.angle_deg) / abs(yaw)
            elif vx == 0.0 and vy == 0.0 and yaw != 0.0:  # "turn left": what a person means
                duration = math.radians(limits.default_turn_deg) / abs(yaw)
            else:
                duration = limits.default_move_s
            segments.append(Segment(duration, vx, vy, yaw, base))
        elif isinstance(action, Gait):
            state = dataclasses.replace(state, gait=action.gait)
            segments.append(Segment(0.0, 0.0, 0.0, 0.0, {**base, "gait": action.gait}))
        elif isinstance(action, Speed):
            if action.change == "set":  # a forward move at the spoken speed
                factor = _clip(action.mps / NOMINAL_FORWARD, limits.speed_factor_range)
            else:
                step = limits.speed_step if action.change == "up" else 1.0 / limits.speed_step
                factor = _clip(state.speed_factor * step, limits.speed_factor_range)
            state = dataclasses.replace(state, speed_factor=factor)
            segments.append(Segment(0.0, 0.0, 0.0, 0.0, {**base, "speed_factor": factor}))
        elif isinstance(action, Posture):
            segments.append(
                Segment(limits.posture_s, 0.0, 0.0, 0.0, {**base, "posture": action.posture})
            )
        elif isinstance(action, Stop):
            extra = {**base, "stop": True, "emergency_stop": action.emergency}
            segments.append(Segment(limits.stop_s, 0.0, 0.0, 0.0, extra))
            if action.emergency:
                state = dataclasses.replace(state, speed_factor=1.0)
                break  # an emergency stop drops whatever was to follow
        elif isinstance(action, ComeHere):
            vx = _clip(NOMINAL_FORWARD * state.speed_factor, limits.lin_vel_x)
            extra = {**base, "behaviour": "come_here"}
            segments.append(Segment(limits.come_here_s, vx, 0.0, 0.0, extra))
    return segments, state


def action_text_safe(action: Action) -> str:
    """Canonical text of an action, or a repr for moves that have none."""
    try:
        return action_text(action)
    except CommandError:
        return repr(action)


def to_joystick(
    command: Command, state: JoystickState | None = None, limits: JoystickLimits | None = None
) -> list[Segment]:
    """The timed joystick segments of a command (see ``plan``)."""
    return plan(command, state, limits)[0]


def segments_to_dicts(segments: Sequence[Segment]) -> list[dict[str, Any]]:
    """JSON-ready form of joystick segments."""
    return [
        {
            "duration_s": _num(s.duration_s),
            "vx": _num(s.vx),
            "vy": _num(s.vy),
            "yaw_rate": _num(s.yaw_rate),
            "extra": s.extra,
        }
        for s in segments
    ]
