#!/usr/bin/env python3
"""Regenerate windows_zones.txt from CLDR's common/supplemental/windowsZones.xml.

Usage: python3 gen_windows_zones.py path/to/windowsZones.xml > windows_zones.txt

The display name of each Windows zone is the XML comment CLDR writes above its first
mapZone (Windows' own display name, e.g. "(UTC+01:00) Amsterdam, Berlin, ..."), so the
file is read line by line rather than through an XML parser, which would drop comments.
Keep the header below in sync with the CLDR commit you took the file from.
"""
import re
import sys

HEADER = """\
# Windows time zone ids, their display names and the IANA zones CLDR maps to them.
#
# Source: CLDR common/supplemental/windowsZones.xml (unicode-org/cldr, commit
# {commit}; mapTimezones otherVersion="{other}").
# Unicode license: https://www.unicode.org/copyright.html
# Regenerate: python3 gen_windows_zones.py path/to/windowsZones.xml CLDR_COMMIT > windows_zones.txt
#
# One Windows zone a line, in CLDR order (by UTC offset):
#   Windows id|display name|TERRITORY=IANA ids separated by spaces|...
# The display name is the comment CLDR puts above the zone (Windows' own display name).
# Territory 001 holds the default IANA zone; ZZ holds the Etc/GMT fixed-offset zones."""

COMMENT = re.compile(r"<!--\s*(\(UTC[^)]*\)[^<]*?)\s*-->")
MAP_ZONE = re.compile(r'<mapZone other="([^"]+)" territory="([^"]+)" type="([^"]*)"\s*/>')
VERSION = re.compile(r'<mapTimezones otherVersion="([^"]+)"')


def main(path: str, commit: str) -> None:
    zones: dict[str, list] = {}
    display = None
    other = "?"
    with open(path, encoding="utf-8") as xml:
        for line in xml:
            if m := VERSION.search(line):
                other = m.group(1)
            if m := COMMENT.search(line):
                display = m.group(1)
            if m := MAP_ZONE.search(line):
                win, territory, ids = m.group(1), m.group(2), " ".join(m.group(3).split())
                if win not in zones:
                    if display is None:
                        sys.exit(f"{path}: no display-name comment above {win}")
                    zones[win] = [display, []]
                zones[win][1].append(f"{territory}={ids}")
    print(HEADER.format(commit=commit, other=other))
    for win, (name, territories) in zones.items():
        print("|".join([win, name, *territories]))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: gen_windows_zones.py windowsZones.xml [cldr-commit]")
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "unknown")
