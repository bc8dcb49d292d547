"""RFC 4285 rules: small named checks, each with its RFC section.

Importing this package registers every rule in ``analyzer.findings.RULES``.
``message`` rules judge one message alone; ``binding_update`` rules judge a BU
against the mobile node's history; ``exchange`` rules judge how the home agent
answered.  ``context`` holds the facts they share.
"""

from . import binding_update, exchange, message  # noqa: F401  (registration)
from .context import BUAssessment, NodeState, RuleContext  # noqa: F401
