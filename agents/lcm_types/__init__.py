"""The CyberDog 2 motor SDK's LCM message types.

The ``*.lcm`` files here are the type definitions; the ``*.py`` beside them are what
``lcm-gen -p`` (PyPI ``lcm`` 1.5.3) writes from them, committed unchanged. Regenerate with

    cd agents/lcm_types && lcm-gen -p *.lcm

(tests/test_cyberdog2.py checks that this gives the same bytes).
"""

from irondog.agents.lcm_types.motor_ctrl_lcmt import motor_ctrl_lcmt
from irondog.agents.lcm_types.motor_ctrl_state_lcmt import motor_ctrl_state_lcmt
from irondog.agents.lcm_types.spi_data_t import spi_data_t
from irondog.agents.lcm_types.state_estimator_lcmt import state_estimator_lcmt

__all__ = ["motor_ctrl_lcmt", "motor_ctrl_state_lcmt", "spi_data_t", "state_estimator_lcmt"]
