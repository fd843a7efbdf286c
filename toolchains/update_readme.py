#!/usr/bin/env python3
"""Writes `ferry config-reference` between the config-reference markers of the README."""
import subprocess
import sys

ferry, readme = sys.argv[1], sys.argv[2]
table = subprocess.run([ferry, "config-reference"], check=True, capture_output=True, text=True).stdout
text = open(readme).read()
begin, end = "<!-- config-reference:begin -->\n", "<!-- config-reference:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(readme, "w").write(text[:a] + table + text[b:])
