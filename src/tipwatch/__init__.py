"""tipwatch: monitoring criminal justice responses to trafficking in persons.

Data flows ingest → store → indicators → privacy → report, one sub-package each.
"""

__version__ = "0.1.0"
