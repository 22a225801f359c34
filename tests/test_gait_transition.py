"""The shipped gait policy changes gait mid-episode without falling: trot, bound, walk."""

from pathlib import Path

import numpy as np
import pytest

from irondog.agents import evaluate, gait_schedule

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "examples" / "gaits_cpu"


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED.is_dir(), reason=f"no shipped gait policy in {SHIPPED} yet")
def test_trot_then_bound_then_walk_without_a_fall():
    from irondog.agents.policy import load_policy

    act, env_config = load_policy(SHIPPED)
    schedule = gait_schedule.parse("trot:4,bound:4,walk:4", env_config.gaits.ranges)
    metrics, trace = evaluate.evaluate(
        act, env_config, episodes=8, seconds=12.0, command=(0.5, 0.0, 0.0),
        gait_schedule=schedule,
    )  # fmt: skip
    # The commands really changed, in order, within each episode...
    names = [schedule.name_at_step(t, trace.dt) for t in range(len(trace.gait))]
    assert names[0] == "trot" and names[300] == "bound" and names[-1] == "walk"
    np.testing.assert_allclose(trace.gait[-1], np.broadcast_to(schedule.vectors[2], (8, 8)))
    # ...and no episode fell.
    assert metrics["fall_rate"] == 0.0, metrics["gait_by_command"]
    assert not trace.done.any()
