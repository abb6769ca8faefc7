"""A faithful local stand-in for the WAIaaS daemon, over real HTTP.

It is a test double and says so (every answer carries ``X-WAIaaS-Sandbox: 1``): it
holds no keys and touches no chain. Start it with ``waiaas-run sandbox``, as the
``sandbox`` pytest fixture, or in code with ``async with Sandbox(...) as sandbox``.
"""

from runner.sandbox.clock import Clock
from runner.sandbox.faults import FaultRule, parse_fault
from runner.sandbox.fixture import Fixture, load_fixture
from runner.sandbox.server import Sandbox

__all__ = ["Clock", "FaultRule", "Fixture", "Sandbox", "load_fixture", "parse_fault"]
