"""Runs Spark SQL statements in a local Spark session, for tests/cli/spark.rs.

Reads a JSON array of statements on stdin, runs each in order through
spark.sql() in one local session (UTC), and prints one JSON array per
statement: its rows, each an array of its values as text (null as null).
The first error ends the run with its message on stderr and exit 1.
"""

import json
import sys

from pyspark.sql import SparkSession


def main() -> int:
    statements = json.load(sys.stdin)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("quarterdeck-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for statement in statements:
            rows = spark.sql(statement).collect()
            print(json.dumps([[None if v is None else str(v) for v in row] for row in rows]), flush=True)
    except Exception as e:  # a statement Spark refused: say which
        print(f"spark refused: {statement}\n{e}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
