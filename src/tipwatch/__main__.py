"""``python -m tipwatch``, and the application file ``spark-submit`` runs on a cluster (docs/spark.md)."""

import sys

from tipwatch.cli import main

if __name__ == "__main__":
    sys.exit(main())
