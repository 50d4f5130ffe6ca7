"""Reads a CSV file with Python's standard `csv` module (an independent reader of
RFC 4180) and prints its rows as one JSON array of arrays of strings.

Usage: read_csv.py FILE
"""

import csv
import json
import sys


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
