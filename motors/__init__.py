"""CyberGear actuator model: the simulation's motor law and the motor design tools."""

from irondog.motors.cybergear import CyberGearParams, mit_torque, torque_limits

__all__ = ["CyberGearParams", "mit_torque", "torque_limits"]
